"""Issue 10, finding 4: every gRPC method of every service authenticates and authorizes its caller.

Real services on loopback (content and analytics through their own bootstrap, against the
real broker and engine; the incentive API server over dict tables), real grpc.aio calls. The
methods are enumerated from the proto descriptors, so a new method fails here until it has
a case: no credential and forged credentials are UNAUTHENTICATED, a caller or user the
service does not allow is PERMISSION_DENIED, the right one is OK. Captured assertions are
refused at another service (audience) and after their lifetime.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pydantic import SecretStr

from planet.analytics.v1 import analytics_service_pb2
from planet.content.v1 import content_service_pb2
from planet.content.v1 import drafts_pb2 as drafts
from planet.content.v1 import events_pb2 as ev
from planet.content.v1 import interactions_pb2 as interactions
from planet.content.v1 import post_lifecycle_pb2 as lifecycle
from planet.content.v1 import reports_pb2 as reports
from planet.content.v1 import topics_pb2 as topics
from planet.incentive.v1 import incentive_service_pb2
from planet.incentive.v1 import incentive_service_pb2 as pool_api
from planet.incentive.v1.weekly_pool_pb2 import HeldDecided
from planet.social.v1 import events_pb2 as social_ev
from planet.social.v1 import social_service_pb2 as social
from planetkit.service_auth_assertion import AssertionSigner, ServiceAuthSettings
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_auth_keys import new_signing_key
from planetkit.service_auth_server import load_verifier
from planetkit.service_identities import ANALYTICS, CONTENT, GATEWAY, INCENTIVE, SOCIAL
from planetkit.settings import KafkaSettings, TopicSettings
from services.analytics.bootstrap import start as start_analytics
from services.analytics.settings import AnalyticsSettings
from services.content.bootstrap import start as start_content
from services.content.settings import ContentSettings
from services.incentive.adapters.grpc_server import IncentiveGrpcServer
from services.incentive.adapters.grpc_servicer import IncentiveServicer
from services.incentive.domain.policy import ScoringPolicy, default_policy
from services.incentive.readside.weeks import apply_operation
from tests.kafka.social.social_harness import open_creators, start_social

pytestmark = pytest.mark.kafka

SERVICES = {
    CONTENT: content_service_pb2.DESCRIPTOR.services_by_name["ContentService"],
    INCENTIVE: incentive_service_pb2.DESCRIPTOR.services_by_name["IncentiveService"],
    ANALYTICS: analytics_service_pb2.DESCRIPTOR.services_by_name["AnalyticsService"],
    SOCIAL: social.DESCRIPTOR.services_by_name["SocialService"],
}
# The content process serves a second service on the same port.
MORE_SERVICES = [(CONTENT, interactions.DESCRIPTOR.services_by_name["InteractionService"]),
                 (CONTENT, topics.DESCRIPTOR.services_by_name["TopicService"]),
                 (CONTENT, lifecycle.DESCRIPTOR.services_by_name["PostLifecycleService"]),
                 (CONTENT, drafts.DESCRIPTOR.services_by_name["DraftService"]),
                 (CONTENT, reports.DESCRIPTOR.services_by_name["ReportService"])]
_NO_DRAFT = "dft_" + "0" * 24
_NO_POST = "post_" + "0" * 24
_NO_COMMENT = "cmt_" + "0" * 24 + "_" + "0" * 24
WEEK = "2026-W48"


@dataclass(frozen=True)
class As:
    """Who signs a call: the calling service, the end user and their roles."""

    service: str
    user_id: str
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    """A request, who may send it, and who must be refused (None: every service may)."""

    request: Callable[[], Message]
    allowed: As
    denied: As | None


class _ProjectingWriter:
    """The incentive API's operations writer, applying each record to its table at once."""

    def __init__(self, weeks: dict[str, bytes]) -> None:
        self._weeks = weeks
        self._n = 0

    async def write(self, key: str, payload: Message, at_ms: int) -> str:
        self._n += 1
        apply_operation(self._weeks, payload, f"ev-{self._n}")  # type: ignore[arg-type]
        return f"ev-{self._n}"


class _NoFacts:
    """ShadowCompare over an empty week."""

    async def compare(self, week: str, candidate: ScoringPolicy | None,
                      now_ms: int) -> pool_api.ShadowComparison:
        return pool_api.ShadowComparison(week=week, mode="estimate")


def _post(creator: str) -> content_service_pb2.PublishPostRequest:
    return content_service_pb2.PublishPostRequest(
        request_id=f"req-{creator}", creator_id=creator, kind=ev.POST_KIND_SHORT, body="gm")


# One case per method; test_every_method_has_a_case keeps this table complete.
CASES: dict[str, Case] = {
    # Only the creator publishes, and only through the gateway.
    "/planet.content.v1.ContentService/PublishPost": Case(
        lambda: _post("alice"), As(GATEWAY, "alice"), As(GATEWAY, "mallory")),
    # Published posts are readable by any authenticated service, for any user.
    "/planet.content.v1.ContentService/GetPost": Case(
        lambda: content_service_pb2.GetPostRequest(post_id="post_nope"),
        As(INCENTIVE, ""), None),
    # A creator's posts are public like each post: any authenticated service, any user.
    "/planet.content.v1.ContentService/ListAuthorPosts": Case(
        lambda: content_service_pb2.ListAuthorPostsRequest(author_id="alice"),
        As(INCENTIVE, ""), None),
    # Authors are resolved for telemetry, which only the gateway ingests.
    "/planet.content.v1.ContentService/ResolveAuthors": Case(
        lambda: content_service_pb2.ResolveAuthorsRequest(item_ids=["post_nope"]),
        As(GATEWAY, "bob"), As(ANALYTICS, "bob")),
    # A creator's estimate: the creator, or an operator/admin.
    "/planet.incentive.v1.IncentiveService/GetWeeklyEstimate": Case(
        lambda: incentive_service_pb2.GetWeeklyEstimateRequest(creator_id="alice", week=WEEK),
        As(GATEWAY, "alice"), As(GATEWAY, "mallory")),
    # The weekly pool's creator RPCs: the creator, or an operator/admin.
    "/planet.incentive.v1.IncentiveService/GetCreatorEstimate": Case(
        lambda: pool_api.CreatorWeekRequest(creator_id="alice"),
        As(GATEWAY, "alice"), As(GATEWAY, "mallory")),
    "/planet.incentive.v1.IncentiveService/ListCreatorWeeks": Case(
        lambda: pool_api.ListCreatorWeeksRequest(creator_id="alice"),
        As(GATEWAY, "alice"), As(GATEWAY, "mallory")),
    "/planet.incentive.v1.IncentiveService/GetCreatorWeek": Case(
        lambda: pool_api.CreatorWeekRequest(creator_id="alice", week=WEEK),
        As(GATEWAY, "alice"), As(GATEWAY, "mallory")),
    "/planet.incentive.v1.IncentiveService/ListItemLedger": Case(
        lambda: pool_api.ListItemLedgerRequest(creator_id="alice"),
        As(GATEWAY, "alice"), As(GATEWAY, "mallory")),
    "/planet.incentive.v1.IncentiveService/GetCreatorCenter": Case(
        lambda: pool_api.CreatorCenterRequest(creator_id="alice"),
        As(GATEWAY, "alice"), As(GATEWAY, "mallory")),
    # Settled weeks are public to any signed-in user (not to a service acting for itself).
    "/planet.incentive.v1.IncentiveService/ListSettledWeeks": Case(
        lambda: pool_api.ListSettledWeeksRequest(),
        As(GATEWAY, "bob"), As(GATEWAY, "")),
    # Operator RPCs: operators and admins only.
    "/planet.incentive.v1.IncentiveService/FundPool": Case(
        lambda: pool_api.FundPoolRequest(week=WEEK, amount_minor=1, asset="USDT",
                                         funding_id="f-auth"),
        As(GATEWAY, "olga", ("operator",)), As(GATEWAY, "mallory", ("creator",))),
    "/planet.incentive.v1.IncentiveService/PublishPolicy": Case(
        lambda: pool_api.PublishPolicyRequest(policy_json=default_policy().evolve(
            version="auth", effective_from_week=WEEK).canonical_bytes()),
        As(GATEWAY, "olga", ("operator",)), As(GATEWAY, "mallory")),
    "/planet.incentive.v1.IncentiveService/ShadowCompare": Case(
        lambda: pool_api.ShadowCompareRequest(week="1970-W01"),
        As(GATEWAY, "olga", ("operator",)), As(GATEWAY, "mallory")),
    "/planet.incentive.v1.IncentiveService/CloseWeek": Case(
        lambda: pool_api.CloseWeekRequest(week="1970-W01", request_id="r-auth"),
        As(GATEWAY, "root", ("admin",)), As(GATEWAY, "mallory")),
    "/planet.incentive.v1.IncentiveService/DecideHeld": Case(
        lambda: pool_api.DecideHeldRequest(week=WEEK, creator_id="alice", decision_id="d",
                                           decision=HeldDecided.DECISION_RELEASE),
        As(GATEWAY, "olga", ("operator",)), As(GATEWAY, "alice")),
    "/planet.incentive.v1.IncentiveService/ListLateFacts": Case(
        lambda: pool_api.ListLateFactsRequest(week=WEEK),
        As(GATEWAY, "olga", ("operator",)), As(GATEWAY, "mallory")),
    # Analyst SQL only through the gateway (the analyst role itself: the servicer's test).
    "/planet.analytics.v1.AnalyticsService/Query": Case(
        lambda: analytics_service_pb2.QueryRequest(sql="SELECT 1"),
        As(GATEWAY, "ann", ("analyst",)), As(CONTENT, "ann", ("analyst",))),
    # Identities: the account holder, through the gateway (alice is a KYC'd creator, so her
    # open is ALREADY_EXISTS: past authorization; see PAST_AUTH).
    "/planet.social.v1.SocialService/OpenIdentity": Case(
        lambda: social.OpenIdentityRequest(user_id="alice", handle="alice_again",
                                           profile=social_ev.Profile(display_name="A")),
        As(GATEWAY, "alice"), As(GATEWAY, "mallory")),
    "/planet.social.v1.SocialService/ChangeHandle": Case(
        lambda: social.ChangeHandleRequest(user_id="alice", handle="alice_next"),
        As(GATEWAY, "alice"), As(CONTENT, "alice")),
    "/planet.social.v1.SocialService/UpdateProfile": Case(
        lambda: social.UpdateProfileRequest(user_id="alice",
                                            profile=social_ev.Profile(display_name="Alice")),
        As(GATEWAY, "alice"), As(GATEWAY, "mallory")),
    # A home page is public: any authenticated service, for any user.
    "/planet.social.v1.SocialService/GetProfile": Case(
        lambda: social.GetProfileRequest(user_id="alice"), As(CONTENT, ""), None),
    # Moderation: operators, through the gateway.
    **{f"/planet.social.v1.SocialService/{m}": Case(
        lambda: social.IdentityActionRequest(user_id="nobody", reason="r"),
        As(GATEWAY, "olga", ("operator",)), As(GATEWAY, "mallory"))
       for m in ("SuspendIdentity", "ReinstateIdentity", "CloseIdentity")},
    "/planet.social.v1.SocialService/SanctionAccount": Case(
        lambda: social.SanctionAccountRequest(user_id="mallory", reason="spam"),
        As(GATEWAY, "olga", ("operator",)), As(GATEWAY, "mallory")),
    "/planet.social.v1.SocialService/LiftSanction": Case(
        lambda: social.LiftSanctionRequest(user_id="mallory", sanction_id="sanc_none",
                                           reason="r"),
        As(GATEWAY, "olga", ("operator",)), As(GATEWAY, "mallory")),
    "/planet.social.v1.SocialService/AppealSanction": Case(
        lambda: social.AppealSanctionRequest(user_id="alice", sanction_id="sanc_none",
                                             text="t"),
        As(GATEWAY, "alice"), As(GATEWAY, "mallory")),
    "/planet.social.v1.SocialService/GetSanctions": Case(
        lambda: social.GetSanctionsRequest(user_id="alice"),
        As(GATEWAY, "alice"), As(GATEWAY, "mallory")),
    # The graph: gateway only; a user follows, unfollows and rings bells as themselves.
    **{f"/planet.social.v1.SocialService/{m}": Case(
        lambda: social.FollowRequest(user_id="bob", creator_id="alice"),
        As(GATEWAY, "bob"), As(GATEWAY, "mallory"))
       for m in ("Follow", "Unfollow")},
    "/planet.social.v1.SocialService/SetBell": Case(
        lambda: social.SetBellRequest(user_id="bob", creator_id="alice", on=False),
        As(GATEWAY, "bob"), As(CONTENT, "bob")),
    **{f"/planet.social.v1.SocialService/{m}": Case(
        lambda: social.ListFollowsRequest(user_id="alice"),
        As(GATEWAY, "bob"), As(CONTENT, "bob"))
       for m in ("ListFollowers", "ListFollowing")},
    # Blocks and mutes: gateway only; a user acts on and lists only their own.
    **{f"/planet.social.v1.SocialService/{m}": Case(
        lambda: social.RelationRequest(user_id="bob", other_id="alice"),
        As(GATEWAY, "bob"), As(GATEWAY, "mallory"))
       for m in ("Block", "Unblock", "Mute", "Unmute")},
    **{f"/planet.social.v1.SocialService/{m}": Case(
        lambda: social.ListFollowsRequest(user_id="bob"),
        As(GATEWAY, "bob"), As(CONTENT, "bob"))
       for m in ("ListBlocked", "ListMuted")},
    # Appeal decisions: operators, through the gateway.
    "/planet.social.v1.SocialService/DecideAppeal": Case(
        lambda: social.DecideAppealRequest(user_id="mallory", sanction_id="sanc_none",
                                           grant=True, reason="r"),
        As(GATEWAY, "olga", ("operator",)), As(GATEWAY, "mallory")),
    # The track record: the creator hides or shows it through the gateway only; any
    # service reads one (a hidden one is NOT_FOUND but for its owner and operators).
    "/planet.social.v1.SocialService/SetTrackRecordVisibility": Case(
        lambda: social.SetTrackRecordVisibilityRequest(user_id="alice", hidden=False),
        As(GATEWAY, "alice"), As(CONTENT, "alice")),
    "/planet.social.v1.SocialService/GetTrackRecord": Case(
        lambda: social.GetTrackRecordRequest(user_id="alice"), As(CONTENT, ""), None),
    # Notifications: the recipient alone, through the gateway (another user: denied).
    "/planet.social.v1.SocialService/ListNotifications": Case(
        lambda: social.ListNotificationsRequest(user_id="alice"),
        As(GATEWAY, "alice"), As(GATEWAY, "mallory")),
    "/planet.social.v1.SocialService/MarkNotificationsRead": Case(
        lambda: social.MarkNotificationsReadRequest(user_id="alice", up_to_position=0),
        As(GATEWAY, "alice"), As(CONTENT, "alice")),
    # Content's alone, for the creator it publishes for.
    "/planet.social.v1.SocialService/CheckPublisher": Case(
        lambda: social.CheckPublisherRequest(user_id="alice"),
        As(CONTENT, "alice"), As(GATEWAY, "alice")),
    "/planet.social.v1.SocialService/GetRelation": Case(
        lambda: social.RelationRequest(user_id="alice", other_id="bob"),
        As(CONTENT, "bob"), As(GATEWAY, "alice")),
    # Interactions: a user acts as themselves (gateway, or content forwarding); the post is
    # not there, so NOT_FOUND proves the call got past authorization. Threads and counts are
    # public.
    "/planet.content.v1.InteractionService/PostComment": Case(
        lambda: interactions.PostCommentRequest(request_id="r", user_id="bob",
                                                post_id=_NO_POST, text="hi"),
        As(GATEWAY, "bob"), As(GATEWAY, "mallory")),
    "/planet.content.v1.InteractionService/EditComment": Case(
        lambda: interactions.EditCommentRequest(request_id="r", user_id="bob",
                                                comment_id=_NO_COMMENT, text="hi"),
        As(GATEWAY, "bob"), As(GATEWAY, "mallory")),
    "/planet.content.v1.InteractionService/DeleteComment": Case(
        lambda: interactions.DeleteCommentRequest(request_id="r", user_id="bob",
                                                  comment_id=_NO_COMMENT),
        As(GATEWAY, "bob"), As(ANALYTICS, "bob")),
    **{f"/planet.content.v1.InteractionService/{m}": Case(
        lambda: interactions.LikeRequest(request_id="r", user_id="bob", item_id=_NO_POST),
        As(GATEWAY, "bob"), As(GATEWAY, "mallory"))
       for m in ("Like", "Unlike")},
    "/planet.content.v1.InteractionService/Share": Case(
        lambda: interactions.ShareRequest(request_id="r", user_id="bob", post_id=_NO_POST),
        As(GATEWAY, "bob"), As(INCENTIVE, "bob")),
    "/planet.content.v1.InteractionService/ListComments": Case(
        lambda: interactions.ListCommentsRequest(post_id=_NO_POST), As(INCENTIVE, ""), None),
    "/planet.content.v1.InteractionService/GetItemStats": Case(
        lambda: interactions.GetItemStatsRequest(item_id=_NO_POST), As(INCENTIVE, ""), None),
    # Topics: pages, arenas and instruments are public; only an operator, through the
    # gateway, curates an arena (a user without the role is refused by content itself).
    "/planet.content.v1.TopicService/ListTopicPosts": Case(
        lambda: topics.ListTopicPostsRequest(topic="btc"), As(INCENTIVE, ""), None),
    "/planet.content.v1.TopicService/ListArenas": Case(
        lambda: topics.ListArenasRequest(), As(INCENTIVE, ""), None),
    "/planet.content.v1.TopicService/ListArenaPosts": Case(
        lambda: topics.ListArenaPostsRequest(arena_id="nope"), As(INCENTIVE, ""), None),
    "/planet.content.v1.TopicService/ListInstruments": Case(
        lambda: topics.ListInstrumentsRequest(), As(INCENTIVE, ""), None),
    # The post lifecycle: the author edits and deletes as themselves (gateway, or content
    # forwarding); the post is not there, so NOT_FOUND proves the call got past
    # authorization. The history: any trusted caller; content answers the author and
    # operators only.
    "/planet.content.v1.PostLifecycleService/EditPost": Case(
        lambda: lifecycle.EditPostRequest(post_id=_NO_POST, editor_id="bob", title="t"),
        As(GATEWAY, "bob"), As(GATEWAY, "mallory")),
    "/planet.content.v1.PostLifecycleService/DeletePost": Case(
        lambda: lifecycle.DeletePostRequest(post_id=_NO_POST, deleter_id="bob"),
        As(GATEWAY, "bob"), As(ANALYTICS, "bob")),
    "/planet.content.v1.PostLifecycleService/ListPostRevisions": Case(
        lambda: lifecycle.ListPostRevisionsRequest(post_id=_NO_POST), As(INCENTIVE, ""), None),
    # Drafts: their author's alone, through the gateway (or content forwarding); the draft
    # is not there, so NOT_FOUND proves the call got past authorization.
    "/planet.content.v1.DraftService/SaveDraft": Case(
        lambda: drafts.SaveDraftRequest(author_id="bob", request_id="r",
                                        content=drafts.DraftContent(title="t")),
        As(GATEWAY, "bob"), As(GATEWAY, "mallory")),
    "/planet.content.v1.DraftService/UpdateDraft": Case(
        lambda: drafts.UpdateDraftRequest(author_id="bob", draft_id=_NO_DRAFT,
                                          expected_revision=1),
        As(GATEWAY, "bob"), As(ANALYTICS, "bob")),
    "/planet.content.v1.DraftService/GetDraft": Case(
        lambda: drafts.GetDraftRequest(author_id="bob", draft_id=_NO_DRAFT),
        As(GATEWAY, "bob"), As(INCENTIVE, "bob")),
    "/planet.content.v1.DraftService/ListDrafts": Case(
        lambda: drafts.ListDraftsRequest(author_id="bob"),
        As(GATEWAY, "bob"), As(GATEWAY, "mallory")),
    "/planet.content.v1.DraftService/DiscardDraft": Case(
        lambda: drafts.DiscardDraftRequest(author_id="bob", draft_id=_NO_DRAFT),
        As(GATEWAY, "bob"), As(SOCIAL, "bob")),
    "/planet.content.v1.DraftService/PublishDraft": Case(
        lambda: drafts.PublishDraftRequest(author_id="bob", draft_id=_NO_DRAFT),
        As(GATEWAY, "bob"), As(GATEWAY, "mallory")),
    # Reports: a user reports and appeals as themselves (gateway, or content forwarding);
    # operators alone list the queues and decide (content checks the role and that the
    # operator is the end user); the item is not there, so NOT_FOUND is past authorization.
    "/planet.content.v1.ReportService/ReportItem": Case(
        lambda: reports.ReportItemRequest(reporter_id="bob", item_id=_NO_POST,
                                          reason=reports.POLICY_REASON_SPAM),
        As(GATEWAY, "bob"), As(GATEWAY, "mallory")),
    "/planet.content.v1.ReportService/AppealRemoval": Case(
        lambda: reports.AppealRemovalRequest(author_id="bob", item_id=_NO_POST, text="t"),
        As(GATEWAY, "bob"), As(ANALYTICS, "bob")),
    "/planet.content.v1.ReportService/ListQueue": Case(
        lambda: reports.ListQueueRequest(), As(GATEWAY, "olga", ("operator",)),
        As(GATEWAY, "mallory")),
    "/planet.content.v1.ReportService/DecideReports": Case(
        lambda: reports.DecideReportsRequest(item_id=_NO_POST, operator_id="olga", note="n"),
        As(GATEWAY, "olga", ("operator",)), As(GATEWAY, "olga")),
    "/planet.content.v1.ReportService/DecideAppeal": Case(
        lambda: reports.DecideAppealRequest(item_id=_NO_POST, operator_id="olga", note="n"),
        As(GATEWAY, "olga", ("operator",)), As(INCENTIVE, "olga", ("operator",))),
    "/planet.content.v1.ReportService/GetModeration": Case(
        lambda: reports.GetModerationRequest(item_id=_NO_POST), As(GATEWAY, "bob"),
        As(INCENTIVE, "bob")),
    "/planet.content.v1.TopicService/PutArena": Case(
        lambda: topics.PutArenaRequest(arena_id="ai", name="AI", topics=["ai"]),
        As(GATEWAY, "olga", ("operator",)), As(GATEWAY, "mallory")),
}


@dataclass
class Stack:
    auth: DevServiceAuth
    addresses: dict[str, str]


@pytest.fixture
async def stack(
    tmp_path: Path, kafka_bootstrap: str, registered_topics: str
) -> AsyncIterator[Stack]:
    topic_suffix = registered_topics
    auth = DevServiceAuth.create(tmp_path / "keys")
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    topics = TopicSettings(topic_suffix=topic_suffix)

    def settings(identity: str) -> ServiceAuthSettings:
        # No skew tolerance, so a 1 s assertion is stale within a second or two.
        return ServiceAuthSettings(trust_file=auth.keyring.trust_file, clock_skew_s=0)

    social_service = await start_social(kafka_bootstrap, topic_suffix, auth, None)
    await open_creators(social_service, auth, kafka_bootstrap, topic_suffix, ["alice"])
    # Content signs its CheckPublisher calls to social with its own key.
    content_auth = settings(CONTENT).model_copy(
        update={"key_file": auth.keyring.key_file(CONTENT)})
    content = await start_content(ContentSettings(
        grpc_port=0, shutdown_grace_s=0, auth=content_auth, kafka=kafka, topics=topics,
        social_addr=f"127.0.0.1:{social_service.port}"))
    # The incentive API over dict tables; its operator writes are projected at once.
    pool_weeks: dict[str, bytes] = {}
    incentive = IncentiveGrpcServer(
        IncentiveServicer(creators_table={}, weeks_table=pool_weeks,
                          operations=_ProjectingWriter(pool_weeks), shadow=_NoFacts(),
                          quote_asset="USDT", now_ms=lambda: 0, ready=lambda: True),
        "127.0.0.1:0", load_verifier(INCENTIVE, settings(INCENTIVE)))
    await incentive.start()
    await incentive.set_serving(True)
    analytics = await start_analytics(AnalyticsSettings(
        grpc_port=0, chdb_path=str(tmp_path / "chdb"), group_id=f"analytics-{topic_suffix}",
        shutdown_grace_s=0, auth=settings(ANALYTICS), kafka=kafka, topics=topics,
        pseudonym_key=SecretStr("service-auth-test-pseudonym-key-32-bytes")))
    try:
        yield Stack(auth, {CONTENT: f"127.0.0.1:{content.port}",
                           INCENTIVE: f"127.0.0.1:{incentive.port}",
                           ANALYTICS: f"127.0.0.1:{analytics.port}",
                           SOCIAL: f"127.0.0.1:{social_service.port}"})
    finally:
        await analytics.stop()
        await incentive.stop(0)
        await content.stop()
        await social_service.stop()


def _methods() -> list[tuple[str, str]]:
    return [(callee, f"/{service.full_name}/{method.name}")
            for callee, service in [*SERVICES.items(), *MORE_SERVICES]
            for method in service.methods]


def _classes(path: str) -> tuple[type[Message], type[Message]]:
    service_name, method_name = path.strip("/").split("/")
    [service] = [s for s in [*SERVICES.values(), *(d for _, d in MORE_SERVICES)]
                 if s.full_name == service_name]
    method = service.methods_by_name[method_name]
    return (message_factory.GetMessageClass(method.input_type),
            message_factory.GetMessageClass(method.output_type))


async def _call(
    stack: Stack, callee: str, path: str, metadata: Any = None
) -> tuple[grpc.StatusCode, str]:
    request_class, response_class = _classes(path)
    request = CASES[path].request()
    assert isinstance(request, request_class)
    async with grpc.aio.insecure_channel(stack.addresses[callee]) as channel:
        call = channel.unary_unary(path, request_serializer=request_class.SerializeToString,
                                   response_deserializer=response_class.FromString)
        try:
            await call(request, metadata=metadata, timeout=30)
        except grpc.aio.AioRpcError as exc:
            return exc.code(), exc.details() or ""
    return grpc.StatusCode.OK, ""


def _signed(stack: Stack, callee: str, who: As) -> tuple[tuple[str, str]]:
    return stack.auth.metadata(callee, who.user_id, who.roles, as_=who.service)


# Answers of an allowed call that prove it got past authentication and authorization.
PAST_AUTH = {grpc.StatusCode.OK, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.ALREADY_EXISTS}
METHODS = _methods()
IDS = [path.rsplit(".", 1)[1] for _, path in METHODS]


def test_every_method_has_a_case() -> None:
    assert sorted(CASES) == sorted(path for _, path in METHODS)


@pytest.mark.parametrize(("callee", "path"), METHODS, ids=IDS)
async def test_every_method_checks_who_calls(stack: Stack, callee: str, path: str) -> None:
    case = CASES[path]
    code, details = await _call(stack, callee, path)
    assert code == grpc.StatusCode.UNAUTHENTICATED and "no service assertion" in details

    code, details = await _call(stack, callee, path, (("authorization", "Bearer not.a.jwt"),))
    assert code == grpc.StatusCode.UNAUTHENTICATED, details

    # Signed by a key no trust file lists, under a trusted identity and a made-up key id.
    stranger = AssertionSigner(GATEWAY, new_signing_key(GATEWAY), 30)
    code, details = await _call(stack, callee, path,
                                stranger.metadata(callee, case.allowed.user_id, ()))
    assert code == grpc.StatusCode.UNAUTHENTICATED, details

    # A trusted service's own key, claiming to be the gateway.
    impostor = AssertionSigner(GATEWAY, stack.auth.keyring.signing_key(ANALYTICS), 30)
    code, details = await _call(stack, callee, path,
                                impostor.metadata(callee, case.allowed.user_id, ()))
    assert code == grpc.StatusCode.UNAUTHENTICATED and "unknown caller or key" in details

    if case.denied is not None:
        code, details = await _call(stack, callee, path, _signed(stack, callee, case.denied))
        assert code == grpc.StatusCode.PERMISSION_DENIED and details, details

    code, details = await _call(stack, callee, path, _signed(stack, callee, case.allowed))
    assert code in PAST_AUTH, (code, details)


async def test_an_assertion_for_content_is_refused_by_incentive(stack: Stack) -> None:
    captured = _signed(stack, CONTENT, As(GATEWAY, "alice"))
    path = "/planet.incentive.v1.IncentiveService/GetWeeklyEstimate"
    code, details = await _call(stack, INCENTIVE, path, captured)
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert "not addressed to 'incentive'" in details


async def test_a_captured_assertion_is_refused_after_its_lifetime(stack: Stack) -> None:
    signer = AssertionSigner(GATEWAY, stack.auth.keyring.signing_key(GATEWAY), lifetime_s=1)
    captured = signer.metadata(INCENTIVE, "alice", ())
    path = "/planet.incentive.v1.IncentiveService/GetWeeklyEstimate"
    assert (await _call(stack, INCENTIVE, path, captured))[0] == grpc.StatusCode.OK
    deadline = time.monotonic() + 10
    while True:
        code, details = await _call(stack, INCENTIVE, path, captured)
        if code != grpc.StatusCode.OK or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert code == grpc.StatusCode.UNAUTHENTICATED and "expired" in details


async def test_operators_see_any_estimate(stack: Stack) -> None:
    path = "/planet.incentive.v1.IncentiveService/GetWeeklyEstimate"
    code, _ = await _call(stack, INCENTIVE, path,
                          _signed(stack, INCENTIVE, As(GATEWAY, "olga", ("operator",))))
    assert code == grpc.StatusCode.OK


async def test_a_service_acting_for_itself_cannot_publish_or_see_estimates(stack: Stack) -> None:
    for callee, path in [(CONTENT, "/planet.content.v1.ContentService/PublishPost"),
                         (INCENTIVE, "/planet.incentive.v1.IncentiveService/GetWeeklyEstimate")]:
        code, _ = await _call(stack, callee, path, _signed(stack, callee, As(GATEWAY, "")))
        assert code == grpc.StatusCode.PERMISSION_DENIED, path


async def test_health_answers_without_credentials(stack: Stack) -> None:
    for address in stack.addresses.values():
        async with grpc.aio.insecure_channel(address) as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_not_found_echoes_a_bounded_id(stack: Stack) -> None:
    huge = "p" * 16 * 1024
    async with grpc.aio.insecure_channel(stack.addresses[CONTENT]) as channel:
        call = channel.unary_unary(
            "/planet.content.v1.ContentService/GetPost",
            request_serializer=content_service_pb2.GetPostRequest.SerializeToString,
            response_deserializer=content_service_pb2.Post.FromString)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(content_service_pb2.GetPostRequest(post_id=huge), timeout=10,
                       metadata=_signed(stack, CONTENT, As(GATEWAY, "bob")))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert len(caught.value.details() or "") < 200 and "16384 characters" in (
        caught.value.details() or "")
