"""The creator center page on the running stack: the real gateway and the real incentive read
side behind it, in headless Chromium.

A creator with no engagement yet sees the default range (the last 8 ISO weeks through the
current one) with zero figures and no running estimate; another user who asks for that
creator's center is told it is not theirs. The figures of an engaged week are checked against
fixed data in tests/kafka/gateway/test_creator_center_page.py.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from system_helpers import mint, unique

from devstack.stack import Stack
from planetkit.clock import now_ms
from planetkit.weeks import iso_week_of_ms
from tests.kafka.gateway.creator_center_browser import chromium, load, screenshot

pytestmark = [pytest.mark.system, pytest.mark.kafka, pytest.mark.slow]


def _token(api: httpx.Client, user: str) -> str:
    return mint(api, user)["Authorization"].split()[1]


def test_a_new_creator_sees_eight_empty_weeks_and_no_estimate(
        stack: Stack, api: httpx.Client, tmp_path: Path) -> None:
    binary = chromium()
    creator = unique("center")
    before = iso_week_of_ms(now_ms())
    url = f"{stack.gateway_url}/creator-center#token={_token(api, creator)}"
    page = load(binary, url, tmp_path / "profile")
    after = iso_week_of_ms(now_ms())
    dom = page.dom
    assert dom.body.get("data-state") == "ready", (dom.status, page.html[-3000:])
    weeks = [key for section, key in dom.rows if section == "overview"]
    assert len(weeks) == 8 and weeks[0] in (before, after), weeks  # newest first
    assert weeks == sorted(weeks, reverse=True)
    for week in weeks:
        row = dom.rows[("overview", week)]
        assert row["views"] == "0" and row["followers_gained"] == "0", row
        assert row["estimated"].startswith("0.") and row["settled"] == "not settled", row
    assert [dom.rows[("overview", w)]["payout"] for w in weeks] == ["running"] + [
        "not settled"] * 7
    # One (empty) bar per week; a week without posts draws no chart of its own.
    assert set(dom.bars) == {"overview"} and len(dom.bars["overview"]) == 8
    assert {b["height"] for b in dom.bars["overview"]} == {"0"}
    # No engagement: no running estimate, said on the page, not an error.
    assert dom.fields == {} and any("No running estimate" in n for n in dom.notes), dom.notes
    screenshot(binary, url, tmp_path / "profile-shot", "creator-center-system.png")


def test_another_users_token_is_told_the_center_is_not_theirs(
        stack: Stack, api: httpx.Client, tmp_path: Path) -> None:
    binary = chromium()
    owner, other = unique("center-owner"), unique("center-other")
    _token(api, owner)
    url = (f"{stack.gateway_url}/creator-center#token={_token(api, other)}"
           f"&creator={owner}")
    page = load(binary, url, tmp_path / "profile")
    assert page.dom.body.get("data-state") == "error", page.html[-3000:]
    assert page.dom.status.startswith("Not yours to see"), page.dom.status
