"""Normalisation (SPEC §4): how emails, phones, names and dates are compared."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tagshare.matching import normalise
from tagshare.matching.normalise import (
    date_key,
    email_key,
    library_phone_key,
    name_key,
    phone_key,
    unicode_name_key,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("José", "jose"),
        ("ZOË", "zoe"),
        ("O'Brien", "obrien"),
        ("  Mary   Ann ", "mary ann"),
        ("Nguyễn", "nguyen"),
        ("Côté-Núñez", "cotenunez"),
    ],
)
def test_names_compare_without_case_accents_punctuation_or_extra_spaces(a, b):
    assert name_key(a) == name_key(b) != ""


@pytest.mark.parametrize(
    "written", ["(312) 555-0100", "312.555.0100", "+1 312 555 0100", "3125550100"]
)
def test_phones_written_differently_have_one_e164_key(written):
    assert phone_key(written, "US") == "+13125550100"


def test_phones_use_the_nations_region_and_unreadable_ones_take_no_part():
    assert phone_key("020 7946 0958", "GB") == "+442079460958"
    assert phone_key("12", "US") == ""
    assert phone_key("call me", "US") == ""


@settings(max_examples=500, deadline=None)
@given(
    phone=st.one_of(
        st.text(alphabet="0123456789 ()-.+", min_size=1, max_size=20),
        st.builds(
            lambda lead, digits, sep: lead + sep.join([digits[:3], digits[3:6], digits[6:]]),
            st.sampled_from(["", "+1", "+1 ", "1 ", "(", "+", "+ 1", "011 "]),
            st.text(alphabet="0123456789", min_size=10, max_size=10),
            st.sampled_from([" ", "-", ".", ") ", "", "  "]),
        ),
    ),
    region=st.sampled_from(sorted(normalise._NANP_REGIONS)),
)
def test_the_fast_reading_of_north_american_numbers_agrees_with_the_library(phone, region):
    phone_key.cache_clear()
    assert phone_key(phone, region) == (library_phone_key(phone, region) if phone.strip() else "")


@settings(max_examples=1000, deadline=None)
@given(name=st.text(alphabet=st.characters(max_codepoint=127), max_size=30))
def test_the_shortcut_for_ascii_names_follows_the_rule(name):
    assert name_key(name) == unicode_name_key(name)


def test_emails_and_dates():
    assert email_key("  Ada@Example.ORG ") == "ada@example.org"
    assert date_key("1990-02-03") == dt.date(1990, 2, 3)
    assert date_key("2023-02-30") is None
