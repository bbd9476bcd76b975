"""Service authentication and the operator's role over the real service: only the gateway
may call; the operator role comes from the signed call (never from the request), so a member
cannot close a group and an operator can; a closed group refuses posts; the owner's one
appeal and the operator's decision reopen it. Health says SERVING on the gRPC port once the
stores have caught up."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from planet.content.v1.reports_pb2 import POLICY_REASON_SCAM
from planet.groups.v1 import groups_service_pb2 as rpc
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import CONTENT, GROUPS
from services.groups.adapters.grpc_server import SERVICE_NAME
from services.groups.bootstrap import RunningGroups
from services.social.bootstrap import RunningSocial
from tests.kafka.groups.groups_harness import Client, profile
from tests.kafka.social.social_harness import open_creators


async def test_groups_service_auth_and_closure(
    kafka_bootstrap: str, topic_suffix: str, service_auth: DevServiceAuth,
    social: RunningSocial, groups_service: Callable[..., Awaitable[RunningGroups]],
) -> None:
    await open_creators(social, service_auth, kafka_bootstrap, topic_suffix, ["owner4"])
    groups = await groups_service()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{groups.port}") as channel:
        health = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=SERVICE_NAME))
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        owner = Client(channel, service_auth, "owner4")
        member = Client(channel, service_auth, "m1")
        operator = Client(channel, service_auth, "op4", operator=True)
        group = (await owner.call("CreateGroup", request_id="c",
                                  profile=profile("Closable"))).group_id
        await member.call("JoinGroup", request_id="j", group_id=group)

        # Another service than the gateway is refused before any use case runs.
        try:
            await owner.stub.GetGroup(
                rpc.GroupRequest(actor_id="owner4", group_id=group),
                metadata=service_auth.metadata(GROUPS, "owner4", [], as_=CONTENT))
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.PERMISSION_DENIED
        else:
            raise AssertionError("content was let in")

        for who in (member, owner):
            refused = await who.refused("CloseGroup", request_id="x", group_id=group,
                                        reason=POLICY_REASON_SCAM, note="scam")
            assert refused.code == "forbidden"
        closed = await operator.call("CloseGroup", request_id="close", group_id=group,
                                     reason=POLICY_REASON_SCAM, note="scam links")
        assert closed.seqs
        assert (await member.refused("PostMessage", request_id="p", group_id=group,
                                     text="hi")).code == "group_closed"
        view = await owner.call("GetGroup", group_id=group)
        assert view.closed and view.closed_note == "scam links"
        assert not (await member.call("GetGroup", group_id=group)).closed_note
        await owner.call("AppealClosure", request_id="a", group_id=group, text="we fixed it")
        assert (await owner.refused("AppealClosure", request_id="a2", group_id=group,
                                    text="again")).code == "appeal_exists"
        await operator.call("DecideClosureAppeal", request_id="d", group_id=group, grant=True,
                            note="ok")
        posted = await member.call("PostMessage", request_id="p2", group_id=group, text="back")
        assert posted.message_seq
        # The operator's actions are in the admin log with their actor.
        log = (await owner.call("AdminLog", group_id=group)).entries
        assert [e.actor_id for e in log if e.type.endswith("GroupClosed")] == ["op4"]
