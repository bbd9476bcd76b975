"""Group engagement in the weekly pool (issue 15), every part real: social (identities), the
groups service (its own facts on planet.groups.events.v1), the incentive service (its intake
turns them into facts and the group item's status; its operator API publishes a policy and
runs a shadow comparison).

- Telemetry's read (ResolveGroupItems) names the owner to a member only.
- A member's messages (a thread reply too) and reactions in a private group become facts for
  the group's owner; the owner's own do not; no record of the incentive side holds a word of
  what was written.
- The group-engagement policy is published from a future week through the operator API; a
  shadow comparison of the current week (the latest published policy against the one in
  force) shows the owner's difference: nothing under v1 (group kinds earn 0 points there),
  the whole pool under v2 (the owner is the only creator anyone engaged with).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc

from planet.incentive.v1.facts_pb2 import FactRows, ItemStatus
from planet.incentive.v1.incentive_service_pb2 import (
    FundPoolRequest,
    PublishPolicyRequest,
    ShadowCompareRequest,
)
from planetkit import topics as registry
from planetkit.envelope import decode
from planetkit.fact_rows import GROUP_MESSAGE, GROUP_REACTION, iter_facts
from planetkit.group_items import group_item
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.topics import with_suffix
from planetkit.weeks import iso_week_of_ms, week_start_ms
from services.groups.bootstrap import RunningGroups
from services.incentive.domain.policy import default_policy, group_engagement_policy
from services.social.bootstrap import RunningSocial
from tests.kafka.groups.groups_harness import Client, profile
from tests.kafka.incentive_api.incentive_api_harness import (
    Api,
    IncentiveProcess,
    poll_until,
    read_values,
)
from tests.kafka.social.social_harness import open_creators, publish_kyc_for

POOL = 100_000
MS_PER_WEEK = 7 * 24 * 3600 * 1000
SECRET = "a private thought about BTC that only members may read"
REPLY = "and a reply in its thread, long enough"


async def test_group_engagement_reaches_the_pool_and_the_new_policy_pays_the_owner(
    kafka_bootstrap: str, registered_topics: str, service_auth: DevServiceAuth,
    social: RunningSocial, groups_service: Callable[..., Awaitable[RunningGroups]],
    tmp_path: Path,
) -> None:
    suffix = registered_topics
    await open_creators(social, service_auth, kafka_bootstrap, suffix, ["owner9"])
    await publish_kyc_for(kafka_bootstrap, suffix, ["mia9"])  # a verified consumer: weight 1
    groups = await groups_service()
    (tmp_path / "incentive").mkdir()
    incentive = IncentiveProcess(kafka_bootstrap, suffix, tmp_path / "incentive")
    incentive.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{groups.port}") as channel:
            owner = Client(channel, service_auth, "owner9")
            mia = Client(channel, service_auth, "mia9")
            group = (await owner.call("CreateGroup", request_id="c",
                                      profile=profile("Inner circle", private=True))).group_id
            await owner.call("AddMember", request_id="a", group_id=group, user_id="mia9")
            first = (await mia.call("PostMessage", request_id="m1", group_id=group,
                                    text=SECRET)).message_seq
            await mia.call("PostMessage", request_id="m2", group_id=group, text=REPLY,
                           reply_to=first)
            mine = (await owner.call("PostMessage", request_id="o1", group_id=group,
                                     text=SECRET)).message_seq
            await owner.call("SetReaction", request_id="r1", group_id=group,
                             message_seq=first, emoji="🔥")
            await mia.call("SetReaction", request_id="r2", group_id=group, message_seq=mine,
                           emoji="👍")
            # Telemetry's read: a member's dwell on the group is the owner's; a non-member
            # (an operator too: reading is no engagement) resolves nothing, nor does a group
            # that does not exist.
            asked = [group, "gnosuchgroup"]
            assert dict((await mia.call("ResolveGroupItems", group_ids=asked)).owners) \
                == {group: "owner9"}
            for outsider in (Client(channel, service_auth, "eve9"),
                             Client(channel, service_auth, "olga9", operator=True)):
                assert not (await outsider.call("ResolveGroupItems", group_ids=asked)).owners
        item = group_item(group)

        facts_topic = with_suffix(registry.INTERACTION_FACTS, suffix).name
        status_topic = with_suffix(registry.ITEM_STATUS, suffix).name

        async def group_facts() -> list[tuple[str, int, str, str, int]]:
            rows = []
            for value in await read_values(kafka_bootstrap, facts_topic):
                facts = decode(value, FactRows).payload
                rows += [(facts.consumer_id, r.kind, r.item_id, r.creator_id, r.text_length)
                         for r in iter_facts(facts) if r.item_id == item]
            return rows

        rows = await poll_until(group_facts, lambda r: len(r) >= 3, 120,
                                f"no group facts\n{incentive.log_tail()}")
        assert sorted(rows) == sorted([
            ("mia9", GROUP_MESSAGE, item, "owner9", len(SECRET)),
            ("mia9", GROUP_MESSAGE, item, "owner9", len(REPLY)),
            ("mia9", GROUP_REACTION, item, "owner9", 0),
        ])
        statuses = [decode(v, ItemStatus).payload
                    for v in await read_values(kafka_bootstrap, status_topic)]
        [status] = [s for s in statuses if s.item_id == item]
        assert (status.creator_id, status.item_kind, list(status.removed)) \
            == ("owner9", "group", [])
        # Private content is never copied: neither facts nor statuses hold the text.
        written = [*await read_values(kafka_bootstrap, facts_topic),
                   *await read_values(kafka_bootstrap, status_topic)]
        assert not [v for v in written if SECRET.encode() in v or REPLY.encode() in v]

        await incentive.wait_serving()
        async with grpc.aio.insecure_channel(incentive.address) as channel:
            api = Api(incentive, channel)
            olga = ("olga", ["operator"])
            now = max(s.updated_at_ms for s in statuses)
            current = iso_week_of_ms(now)
            future = iso_week_of_ms(week_start_ms(current) + MS_PER_WEEK)
            await api.call("FundPool", FundPoolRequest(
                week=current, amount_minor=POOL, asset="USDT", funding_id="f-1"), *olga)
            v2 = group_engagement_policy(future)
            # Not from the current week: a policy takes effect from a future week only.
            code, _ = await api.refused("PublishPolicy", PublishPolicyRequest(
                version="2", effective_week=current,
                policy_json=group_engagement_policy(current).canonical_bytes()), *olga)
            assert code == grpc.StatusCode.FAILED_PRECONDITION
            published = await api.call("PublishPolicy", PublishPolicyRequest(
                version="2", effective_week=future, policy_json=v2.canonical_bytes()), *olga)
            assert (published.policy_hash, published.effective_week) == (v2.hash, future)

            # The latest published policy (v2) against the one in force this week (v1).
            shadow = await api.call("ShadowCompare", ShadowCompareRequest(week=current), *olga)
            assert (shadow.mode, shadow.pool_minor) == ("estimate", POOL)
            assert (shadow.current_policy_hash, shadow.candidate_policy_hash) \
                == (default_policy().hash, v2.hash)
            by_creator = {d.creator_id: d for d in shadow.differences}
            assert set(by_creator) == {"owner9"}
            diff = by_creator["owner9"]
            assert (diff.current_minor, diff.candidate_minor, diff.delta_minor) == (0, POOL, POOL)
    finally:
        incentive.stop()
