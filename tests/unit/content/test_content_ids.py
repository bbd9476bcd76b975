"""Post ids are derived from (creator, request), which makes publishing idempotent."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from services.content.domain.ids import event_id_for, post_id_for


def test_the_same_request_names_the_same_post() -> None:
    assert post_id_for("user_1", "req-1") == post_id_for("user_1", "req-1")
    assert re.fullmatch(r"post_[0-9a-f]{24}", post_id_for("user_1", "req-1"))


def test_other_creators_or_requests_name_other_posts() -> None:
    ids = {post_id_for("user_1", "req-1"), post_id_for("user_2", "req-1"),
           post_id_for("user_1", "req-2")}
    assert len(ids) == 3


@given(st.text(), st.text(), st.text(), st.text())
def test_parts_cannot_be_shifted_between_creator_and_request(a: str, b: str, c: str,
                                                             d: str) -> None:
    if (a, b) != (c, d) and "\x00" not in a + b + c + d:
        assert post_id_for(a, b) != post_id_for(c, d)


def test_event_ids_are_stable_per_version() -> None:
    assert event_id_for("post_x", 1) == event_id_for("post_x", 1) != event_id_for("post_x", 2)
