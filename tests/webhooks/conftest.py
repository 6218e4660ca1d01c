"""A real HTTP server on 127.0.0.1 that records what webhooks send it, and endpoints aimed at it."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tagshare.nations.actors import Actor
from tagshare.nations.models import Nation
from tagshare.webhooks.models import WebhookEndpoint
from tagshare.webhooks.services import webhook_create

# The API's clients for test_api.py, and its cheap password hashing for every user made here.
from tests.api.conftest import (  # noqa: F401
    _fast_password_hashing,
    admin_api,
    api_as,
    other_api,
    staff_api,
)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def event(self) -> str:
        return self.headers["Tagshare-Event"]


@dataclass
class Inbox:
    """What arrived, in order; `answer(500, 200)` sets the next status codes (then 200s)."""

    url: str
    received: list[Received] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, *codes: int) -> None:
        with self.lock:
            self.codes[:] = codes

    def next_code(self) -> int:
        with self.lock:
            return self.codes.pop(0) if self.codes else 200

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def events(self, path: str) -> list[str]:
        return [r.event for r in self.at(path)]


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box: dict[str, Inbox] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            got = box["inbox"]
            got.received.append(Received(self.path, dict(self.headers.items()), body))
            code = got.next_code()
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box["inbox"] = Inbox(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield box["inbox"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def hook(inbox: Inbox) -> Callable[..., WebhookEndpoint]:
    """An endpoint of `nation` aimed at the inbox under `/<nation slug><suffix>`."""

    def make(nation: Nation, *events: str, suffix: str = "") -> WebhookEndpoint:
        return webhook_create(
            nation=nation,
            actor=Actor.system(),
            url=f"{inbox.url}/{nation.slug}{suffix}",
            event_types=list(events),
        )

    return make
