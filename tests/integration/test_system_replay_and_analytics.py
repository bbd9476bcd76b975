"""Results are reproducible from the log; analysts see every event in ClickHouse, pseudonymised."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import grpc
import httpx
import pytest
from system_helpers import eventually, mint, unique
from test_system_end_to_end import estimate, publish, views

from devstack import health
from devstack.stack import ROOT, Stack, free_port
from planet.incentive.v1 import incentive_service_pb2 as pb
from planet.incentive.v1 import incentive_service_pb2_grpc as rpc
from planetkit.service_identities import INCENTIVE
from services.analytics.domain.pseudonyms import Pseudonymizer

pytestmark = [pytest.mark.system, pytest.mark.kafka]


def grpc_estimate(stack: Stack, addr: str, creator: str) -> tuple[int, ...]:
    # Signed with the stack's gateway key for an operator, as the gateway would.
    metadata = stack.service_auth.metadata(INCENTIVE, "ops", ["operator"])
    with grpc.insecure_channel(addr) as channel:
        e = rpc.IncentiveServiceStub(channel).GetCreatorEstimate(
            pb.CreatorWeekRequest(creator_id=creator), timeout=5, metadata=metadata)
    return (e.as_of_ms, e.estimated_minor, e.score, e.activity.views,
            e.activity.dwell_seconds, e.activity.unique_viewers)


@pytest.mark.slow
def test_a_fresh_replica_restored_from_the_changelogs_answers_as_the_live_one(
    stack: Stack, api: httpx.Client, tmp_path: Any
) -> None:
    creators = [unique("creator") for _ in range(3)]
    for n, creator in enumerate(creators):
        post = publish(stack, api, creator, f"replay post {n}")
        for k in range(n + 2):
            views(api, unique("consumer"), post, [7 * (k + 1)])
    last = creators[-1]
    eventually(lambda: estimate(api, last), lambda e: e["views"] == 4)
    live = f"127.0.0.1:{stack.ports.incentive}"
    # The live replica may itself still be taking in the latest estimate (the gateway that saw
    # 4 views may have asked another replica), so the comparison below polls both sides.
    eventually(lambda: [grpc_estimate(stack, live, c)[3] for c in creators],
               lambda v: v == [2, 3, 4])

    # A second replica with no local state of its own (same app: it joins the group, restores
    # the read side's global tables from their changelogs) answers every creator as the live
    # one does. (A new app id would run a second intake and write every fact again.)
    port = free_port()
    env = stack.env_for(stack.services["incentive"])
    env.update({"PLANET_INCENTIVE_GRPC_PORT": str(port),
                "PLANET_INCENTIVE_WEB_PORT": str(free_port()),
                "PLANET_INCENTIVE_HEALTH_PORT": str(free_port()),
                "PLANET_INCENTIVE_DATA_DIR": str(tmp_path)})
    log = (tmp_path / "replay.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "services.incentive"], cwd=ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        assert health.wait_for(lambda: health.grpc_serving(f"127.0.0.1:{port}"), 120,
                               lambda: proc.poll() is None)
        def both() -> tuple[dict[str, tuple[int, ...]] | None,
                            dict[str, tuple[int, ...]] | None]:
            # While the new replica joins, the group rebalances and a replica may answer
            # UNAVAILABLE ("catching up; retry shortly"): clients retry, so does this poll.
            try:
                return ({c: grpc_estimate(stack, live, c) for c in creators},
                        {c: grpc_estimate(stack, f"127.0.0.1:{port}", c) for c in creators})
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.UNAVAILABLE:
                    raise
                return None, None

        live_now, replayed = eventually(both, lambda p: p[0] is not None and p[0] == p[1],
                                        timeout_s=90)
        assert replayed is not None and replayed == live_now
        assert [replayed[c][3] for c in creators] == [2, 3, 4]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=45)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_analysts_query_every_engagement_event_and_others_may_not(
    stack: Stack, api: httpx.Client
) -> None:
    creator, consumer = unique("creator"), unique("consumer")
    post = publish(stack, api, creator, "for the analysts")
    views(api, consumer, post, [11, 22, 33])  # telemetry: views only
    analyst = mint(api, unique("analyst"), ["analyst"])
    # Analysts see the consumer only as its pseudonym: whoever holds the key (here the test,
    # in production nobody but the sink) can find it; analysts can count and join by it.
    pseudonym = Pseudonymizer(stack.pseudonym_key.encode())(consumer)
    sql = (
        "SELECT count() AS events, "
        "sum(JSONExtractUInt(payload_json, 'dwell_seconds')) AS dwell, "
        "uniqExact(JSONExtractString(payload_json, 'creator_id')) AS creators "
        "FROM planet.events_raw_dedup "
        "WHERE event_type = 'planet.engagement.v1.EngagementEvent' "
        f"AND aggregate_id = '{pseudonym}'"
    )

    def run(query: str, headers: dict[str, str]) -> Any:
        resp = api.post("/v1/analytics/query", json={"sql": query}, headers=headers)
        assert resp.status_code == 200, resp.text
        return resp.json()["rows"]

    rows = eventually(lambda: run(sql, analyst), lambda r: bool(r) and r[0][0] == 3)
    assert rows == [[3, 66, 1]]
    # Every column of the consumer's rows, as an analyst reads them: no raw id anywhere.
    every = run(f"SELECT * FROM planet.events_raw_dedup WHERE aggregate_id = '{pseudonym}'",
                analyst)
    assert len(every) == 3
    assert consumer not in str(every) and creator not in str(every)
    assert run(f"SELECT count() FROM planet.events_raw_dedup WHERE aggregate_id = '{consumer}'",
               analyst) == [[0]]
    # Operators trace the same events in clear, in planet_ops.
    operator = mint(api, unique("operator"), ["operator"])
    traced = run("SELECT count(), any(JSONExtractString(payload_json, 'creator_id')) "
                 "FROM planet_ops.events_raw_dedup "
                 f"WHERE event_type = 'planet.engagement.v1.EngagementEvent' "
                 f"AND aggregate_id = '{consumer}'", operator)
    assert traced == [[3, creator]]
    refused = api.post("/v1/analytics/query", headers=analyst, json={
        "sql": "SELECT count() FROM planet_ops.events_raw_dedup"})
    assert refused.status_code in (400, 403), refused.text

    consumer_token = mint(api, consumer)
    forbidden = api.post("/v1/analytics/query", json={"sql": "SELECT 1"}, headers=consumer_token)
    assert forbidden.status_code == 403
    write = api.post("/v1/analytics/query", json={"sql": "DROP TABLE planet.events_raw"},
                     headers=analyst)
    assert write.status_code == 400 and write.json()["error"]
