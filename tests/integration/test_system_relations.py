"""Blocks, mutes and appeal decisions through the running stack (gateway -> social, signed):
a block ends follows both ways with exact counts on the home pages, the blocked user's follow
is a 403 naming why, each user's lists are theirs alone, bad input is a 4xx with a message;
an operator's granted appeal lifts the sanction as its holder sees it."""

from __future__ import annotations

import httpx
import pytest
from system_helpers import become_creator, mint, unique

from devstack.stack import Stack

pytestmark = [pytest.mark.system, pytest.mark.kafka]


def _counts(api: httpx.Client, user: str, headers: dict[str, str]) -> tuple[int, int]:
    page = api.get(f"/v1/creators/{user}", headers=headers)
    assert page.status_code == 200, page.text
    return page.json()["follower_count"], page.json()["following_count"]


def test_a_block_ends_follows_refuses_the_blocked_follow_and_lists_are_private(
    stack: Stack,
) -> None:
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as api:
        cara, dave, fan = unique("cara"), unique("dave"), unique("fan")
        for creator in (cara, dave):
            become_creator(stack, api, creator)
        as_cara, as_dave, as_fan = mint(api, cara), mint(api, dave), mint(api, fan)
        for who, whom, headers in ((cara, dave, as_cara), (dave, cara, as_dave),
                                   (fan, cara, as_fan)):
            followed = api.put(f"/v1/creators/{whom}/follow", headers=headers)
            assert followed.status_code == 200, (who, followed.text)
        assert _counts(api, cara, as_fan) == (2, 1)

        blocked = api.put(f"/v1/me/blocks/{dave}", headers=as_cara)
        assert blocked.status_code == 200, blocked.text
        assert blocked.json() == {"blocking": True, "muting": False, "following": False}
        assert _counts(api, cara, as_fan) == (1, 0)
        assert _counts(api, dave, as_fan) == (0, 0)

        refused = api.put(f"/v1/creators/{cara}/follow", headers=as_dave)
        assert refused.status_code == 403 and "cannot follow" in refused.json()["error"]

        muted = api.put(f"/v1/me/mutes/{cara}", headers=as_fan)
        assert muted.status_code == 200 and muted.json()["following"] is True
        assert api.get("/v1/me/blocks", headers=as_cara).json() == {
            "user_ids": [dave], "next_cursor": None}
        assert api.get("/v1/me/mutes", headers=as_fan).json()["user_ids"] == [cara]
        # Each list is the caller's own: dave sees no block of cara's, cara no mute of fan's.
        assert api.get("/v1/me/blocks", headers=as_dave).json()["user_ids"] == []
        assert api.get("/v1/me/mutes", headers=as_cara).json()["user_ids"] == []

        # Bad input: oneself, an unknown user, a bad page size; all 4xx with a message.
        for method, path, headers, status in (
                ("PUT", f"/v1/me/blocks/{cara}", as_cara, 422),
                ("PUT", f"/v1/me/mutes/{cara}", as_cara, 422),
                ("PUT", f"/v1/me/blocks/{unique('nobody')}", as_cara, 404),
                ("GET", "/v1/me/blocks?limit=0", as_cara, 422),
                ("GET", "/v1/me/mutes?limit=5000", as_cara, 422),
                ("PUT", "/v1/me/blocks/" + "x" * 300, as_cara, 422)):
            got = api.request(method, path, headers=headers)
            assert got.status_code == status, (path, got.text)
            assert got.json()["error"]

        unblocked = api.delete(f"/v1/me/blocks/{dave}", headers=as_cara)
        assert unblocked.status_code == 200 and unblocked.json()["blocking"] is False
        again = api.put(f"/v1/creators/{cara}/follow", headers=as_dave)
        assert again.status_code == 200 and again.json()["creator_follower_count"] == 2
        assert api.delete(f"/v1/me/mutes/{cara}", headers=as_fan).json()["muting"] is False


def test_a_granted_appeal_lifts_the_sanction_its_holder_sees(stack: Stack) -> None:
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as api:
        erin, ops = unique("erin"), mint(api, unique("ops"), ["operator"])
        as_erin = mint(api, erin)
        made = api.post(f"/v1/operator/accounts/{erin}/sanctions", json={"reason": "spam"},
                        headers=ops)
        assert made.status_code == 201, made.text
        sid = made.json()["sanction_id"]
        decide = f"/v1/operator/accounts/{erin}/sanctions/{sid}/appeal-decision"

        early = api.post(decide, json={"grant": True, "reason": "ok"}, headers=ops)
        assert early.status_code == 403 and "appealed" in early.json()["error"]
        appealed = api.post(f"/v1/me/sanctions/{sid}/appeal", json={"text": "not spam"},
                            headers=as_erin)
        assert appealed.status_code == 200, appealed.text
        # The holder cannot decide their own appeal; a body without grant is a 422.
        assert api.post(decide, json={"grant": True, "reason": "mine"},
                        headers=as_erin).status_code == 403
        assert api.post(decide, json={"reason": "no grant"}, headers=ops).status_code == 422

        granted = api.post(decide, json={"grant": True, "reason": "context was missing"},
                           headers=ops)
        assert granted.status_code == 200, granted.text
        assert granted.json()["status"] == "lifted"
        twice = api.post(decide, json={"grant": False, "reason": "changed my mind"},
                         headers=ops)
        assert twice.status_code == 409 and "once" in twice.json()["error"]

        seen = api.get("/v1/me/sanctions", headers=as_erin)
        assert seen.status_code == 200, seen.text
        [mine] = seen.json()["sanctions"]
        assert mine["status"] == "lifted" and mine["appeal_decision"] == "granted"
        assert mine["appeal_note"] == "context was missing"
        assert mine["lifted_at_ms"] == mine["appeal_decided_at_ms"] >= mine["at_ms"]
