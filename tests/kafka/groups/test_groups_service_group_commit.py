"""Group commit: commands that arrive together are decided in order, each against the facts
decided before it, and appended in one Kafka transaction. 120 members joining at once and then
posting at once (a retry racing its original among them) each get their own answer, the
group's seqs have no gap and no duplicate, the retry appends nothing, far fewer transactions
than commands are paid, and a store rebuilt from the log equals the live one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc

from planetkit.service_auth_dev import DevServiceAuth
from services.groups.bootstrap import RunningGroups
from services.social.bootstrap import RunningSocial
from tests.kafka.groups.groups_harness import Client, dump, profile
from tests.kafka.social.social_harness import open_creators

MEMBERS = 120


async def test_concurrent_commands_share_transactions_and_number_facts_without_a_gap(
    kafka_bootstrap: str, topic_suffix: str, service_auth: DevServiceAuth, tmp_path: Path,
    social: RunningSocial, groups_service: Callable[..., Awaitable[RunningGroups]],
) -> None:
    await open_creators(social, service_auth, kafka_bootstrap, topic_suffix, ["gc-owner"])
    live_dir = tmp_path / "live"
    live = await groups_service(live_dir)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{live.port}") as channel:
        owner = Client(channel, service_auth, "gc-owner")
        group = (await owner.call("CreateGroup", request_id="c",
                                  profile=profile("Busy"))).group_id
        users = [Client(channel, service_auth, f"gc{i}") for i in range(MEMBERS)]
        before = live.service.transactions
        joins = await asyncio.gather(*(u.call("JoinGroup", request_id="j", group_id=group)
                                       for u in users))
        join_seqs = sorted(s for r in joins for s in r.seqs)
        assert join_seqs == list(range(join_seqs[0], join_seqs[0] + MEMBERS))
        posts = await asyncio.gather(
            *(u.call("PostMessage", request_id="p", group_id=group, text=f"gm {i}")
              for i, u in enumerate(users)),
            users[7].call("PostMessage", request_id="p", group_id=group, text="gm 7"))
        *firsts, retry = posts
        assert retry == firsts[7]  # the racing retry answered the first result
        message_seqs = sorted(r.message_seq for r in firsts)
        assert message_seqs == list(range(join_seqs[-1] + 1, join_seqs[-1] + 1 + MEMBERS))
        paid = live.service.transactions - before
        assert 2 <= paid <= MEMBERS  # 2 x 120 commands: at most one transaction per two
        texts = {}
        for around in (message_seqs[0], message_seqs[0] + 100):  # pages of at most 100
            page = await owner.call("History", group_id=group, around_seq=around, after=99)
            texts.update((m.seq, m.text) for m in page.messages)
        assert sorted(texts) == message_seqs
        assert sorted(texts.values()) == sorted(f"gm {i}" for i in range(MEMBERS))
        print(f"{2 * MEMBERS + 1} commands in {paid} transactions")
    await live.stop()

    rebuilt_dir = tmp_path / "rebuilt"
    rebuilt = await groups_service(rebuilt_dir)
    await rebuilt.stop()
    assert dump(rebuilt_dir) == dump(live_dir)


async def test_a_batch_whose_append_fails_is_retried_by_its_callers_with_no_duplicate(
    kafka_bootstrap: str, topic_suffix: str, service_auth: DevServiceAuth, tmp_path: Path,
    social: RunningSocial, groups_service: Callable[..., Awaitable[RunningGroups]],
) -> None:
    # The append times out (its outcome unknown: the transaction may still commit): every
    # caller in the batch hears UNAVAILABLE and retries with its request id, the partition
    # resynchronises first, and each message exists once, numbered without a gap.
    await open_creators(social, service_auth, kafka_bootstrap, topic_suffix, ["gf-owner"])
    live_dir = tmp_path / "live"
    live = await groups_service(live_dir)
    event_log = live.service.handlers._log  # its timeout is the fault injected
    async with grpc.aio.insecure_channel(f"127.0.0.1:{live.port}") as channel:
        owner = Client(channel, service_auth, "gf-owner")
        group = (await owner.call("CreateGroup", request_id="c",
                                  profile=profile("Flaky"))).group_id
        users = [Client(channel, service_auth, f"gf{i}") for i in range(20)]
        await asyncio.gather(*(u.call("JoinGroup", request_id="j", group_id=group)
                               for u in users))
        timeout_s = event_log._timeout_s
        event_log._timeout_s = 0.0001

        async def heal() -> None:
            await asyncio.sleep(1.0)
            event_log._timeout_s = timeout_s

        healer = asyncio.create_task(heal())
        posts = await asyncio.gather(*(u.call("PostMessage", request_id="p", group_id=group,
                                              text=f"gm {i}") for i, u in enumerate(users)))
        await healer
        assert event_log.unknown >= 1  # the fault was hit: callers retried
        seqs = sorted(p.message_seq for p in posts)
        assert len(set(seqs)) == len(users)
        page = await owner.call("History", group_id=group, around_seq=seqs[0], after=99)
        assert [m.seq for m in page.messages] == seqs  # no gap, nothing twice
        assert sorted(m.text for m in page.messages) == sorted(f"gm {i}" for i in range(20))
    await live.stop()
    rebuilt_dir = tmp_path / "rebuilt"
    rebuilt = await groups_service(rebuilt_dir)
    await rebuilt.stop()
    assert dump(rebuilt_dir) == dump(live_dir)
