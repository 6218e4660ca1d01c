"""The quick check of plain email addresses never lets through one Django's validator refuses."""

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from hypothesis import given, settings
from hypothesis import strategies as st

from tagshare.people import catalog, values

_django = EmailValidator()
_parts = st.text(alphabet="abZ09_+-.@!#é", min_size=0, max_size=12)


@settings(max_examples=1000, deadline=None)
@given(local=_parts, host=_parts, tld=st.text(alphabet="abcZ-.0é", min_size=0, max_size=5))
def test_every_address_the_quick_check_accepts_django_accepts(local, host, tld):
    address = f"{local}@{host}.{tld}"
    if values.PLAIN_EMAIL.fullmatch(address):
        _django(address)  # raises if the quick check let through a bad address


@pytest.mark.parametrize(
    "address", ["a..b@example.org", ".a@example.org", "a@-example.org", "a@example.c0m", "a@b"]
)
def test_bad_addresses_are_still_refused(address):
    with pytest.raises(ValueError, match="not a valid email address"):
        values.clean_value(catalog.BY_NAME["email1"], address)


def test_plain_addresses_are_accepted_as_written():
    assert values.clean_value(catalog.BY_NAME["email1"], " P1.Ab+x@Mail-1.Example.ORG ") == (
        "P1.Ab+x@Mail-1.Example.ORG"
    )
    with pytest.raises(ValidationError):
        _django("a..b@example.org")
