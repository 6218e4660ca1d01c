"""docs/webhooks.md's verification snippet works on a real delivery, and only with the secret."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest
from django.db import transaction

from tagshare.webhooks.deliver import deliver_due
from tagshare.webhooks.services import webhook_enqueue

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
pytestmark = pytest.mark.django_db


def test_the_documented_snippet_verifies_a_delivery(nation, hook, inbox):
    [snippet] = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    scope: dict[str, object] = {}
    exec(compile(snippet, str(DOC), "exec"), scope)
    verify = cast(Callable[[str, str, bytes], bool], scope["verify"])
    endpoint = hook(nation)
    with transaction.atomic():
        webhook_enqueue(nation.pk, "share.accepted", {"share": {"id": 7}})
    deliver_due()  # now: the snippet checks the timestamp against the real clock
    [got] = inbox.received
    header = got.headers["Tagshare-Signature"]
    assert verify(endpoint.secret, header, got.body)
    assert not verify("whsec_wrong", header, got.body)
    assert not verify(endpoint.secret, header, got.body.replace(b"7", b"8"))
