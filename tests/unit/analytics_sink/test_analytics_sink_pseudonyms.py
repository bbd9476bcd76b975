"""Pseudonyms and redaction: keyed, stable, joinable; private content and secrets never kept."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator

import pytest

from planet.content.v1.content_service_pb2 import ResolveAuthorsResponse
from planet.events.v1.envelope_pb2 import DeadLetter
from planetkit import classification
from services.analytics.domain import redaction
from services.analytics.domain.flatten import payload_dict
from services.analytics.domain.pseudonyms import MIN_KEY_BYTES, Pseudonymizer
from services.analytics.domain.redaction import redact

KEY = b"k" * MIN_KEY_BYTES


def test_a_pseudonym_is_the_truncated_hmac_sha256_of_the_value_under_the_key() -> None:
    expected = hmac.new(KEY, b"user-1", hashlib.sha256).hexdigest()[:32]
    assert Pseudonymizer(KEY)("user-1") == expected
    # Stable: the same value always maps to the same pseudonym (counts and joins work) ...
    assert Pseudonymizer(KEY)("user-1") == Pseudonymizer(KEY)("user-1")
    # ... distinct values to distinct ones, and another key to another one entirely.
    assert Pseudonymizer(KEY)("user-2") != expected
    assert Pseudonymizer(b"j" * MIN_KEY_BYTES)("user-1") != expected
    # Not a plain hash that anyone could recompute from a guessed id.
    assert expected != hashlib.sha256(b"user-1").hexdigest()[:32]


def test_empty_stays_empty_and_odd_text_is_handled() -> None:
    pseudonymize = Pseudonymizer(KEY)
    assert pseudonymize("") == ""
    for value in ("zz/q", "naïve 🚀", "\ud800 lone surrogate", "x" * 10_000):
        assert len(pseudonymize(value)) == 32
        assert pseudonymize(value) == pseudonymize(value)


def test_a_short_key_is_refused_and_the_key_never_shows() -> None:
    with pytest.raises(ValueError, match=f"at least {MIN_KEY_BYTES} bytes"):
        Pseudonymizer(b"short")
    assert "k" * 8 not in repr(Pseudonymizer(KEY))


def test_private_content_is_dropped_for_every_audience() -> None:
    letter = DeadLetter(source_topic="t", key=b"alice", value=b"secret draft",
                        reason="bad batch 'alice/b'", consumer="c")
    clear = payload_dict(letter)
    descriptor = DeadLetter.DESCRIPTOR
    for personal in (None, Pseudonymizer(KEY)):
        out = redact(clear, descriptor, personal)
        assert "value" not in out
        assert out["source_topic"] == "t"
    hidden = redact(clear, descriptor, Pseudonymizer(KEY))
    assert hidden["reason"] == Pseudonymizer(KEY)(str(clear["reason"]))
    assert redact(clear, descriptor, None)["reason"] == "bad batch 'alice/b'"


@pytest.fixture
def authors_classified_personal() -> Iterator[None]:
    """ResolveAuthorsResponse.authors (a map) temporarily classified personal."""
    name = "planet.content.v1.ResolveAuthorsResponse.authors"
    classification._FIELDS[name] = classification.PERSONAL
    redaction._plan.cache_clear()
    try:
        yield
    finally:
        del classification._FIELDS[name]
        redaction._plan.cache_clear()


def test_a_field_nobody_classified_is_dropped_not_stored() -> None:
    # The sink refuses to start with one (check_classified); this is the second lock.
    response = ResolveAuthorsResponse(authors={"post-1": "alice"})
    assert redact(payload_dict(response), ResolveAuthorsResponse.DESCRIPTOR, None) == {}


@pytest.mark.usefixtures("authors_classified_personal")
def test_a_personal_map_has_its_keys_and_values_pseudonymised() -> None:
    pseudonymize = Pseudonymizer(KEY)
    response = ResolveAuthorsResponse(authors={"post-1": "alice"})
    out = redact(payload_dict(response), ResolveAuthorsResponse.DESCRIPTOR, pseudonymize)
    assert out == {"authors": {pseudonymize("post-1"): pseudonymize("alice")}}
