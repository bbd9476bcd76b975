"""In-process gateway apps for the security tests: real app, real middleware, small backends.

The backends here stand in for the services behind the gateway (they are not what these
tests examine); every request still goes through the real FastAPI app, its dependencies,
error handlers, limits and middleware.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.auth import Principal, issue_token
from gateway.errors import NotFound
from gateway.estimate_hub import EstimateHub
from gateway.ports import Backends, EventSink, QueryAnswer
from gateway.settings import GatewaySettings
from planet.content.v1 import content_service_pb2 as content
from planet.content.v1 import interactions_pb2 as interactions
from planet.content.v1 import post_lifecycle_pb2 as lifecycle
from planet.content.v1 import topics_pb2 as topics
from planet.events.v1.envelope_pb2 import Envelope
from planet.incentive.v1 import incentive_service_pb2 as incentive
from planet.incentive.v1 import weekly_pool_pb2 as pool
from planet.social.v1 import social_service_pb2 as social
from planet.social.v1.track_record_pb2 import TrackRecord
from services.content.domain.ids import post_id_for
from tests.security.gateway_drafts_standin import Drafts
from tests.security.gateway_reports_standin import Reports

SECRET = "security-test-secret-of-at-least-32-bytes"
POST = post_id_for("alice", "first")
SETTLED_WEEK = "2026-W01"


@dataclass
class Calls:
    """Every backend call the app made, by method name."""

    names: list[str] = field(default_factory=list)


class Content:
    """One known post by alice."""

    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    async def publish_post(self, caller: Principal, request: content.PublishPostRequest
                           ) -> content.Post:
        self.calls.names.append("publish_post")
        return content.Post(post_id=post_id_for(request.creator_id, request.request_id),
                            creator_id=request.creator_id, body=request.body, version=1)

    async def get_post(self, caller: Principal, post_id: str) -> content.Post:
        self.calls.names.append("get_post")
        if post_id != POST:
            raise NotFound(f"post {post_id!r} not found")
        return content.Post(post_id=POST, creator_id="alice", body="gm", version=1)

    async def resolve_authors(self, caller: Principal, item_ids: list[str]) -> dict[str, str]:
        self.calls.names.append("resolve_authors")
        return {i: "alice" for i in item_ids if i == POST}

    async def list_author_posts(self, caller: Principal, request: content.ListAuthorPostsRequest
                                ) -> content.ListAuthorPostsResponse:
        self.calls.names.append("list_author_posts")
        posts = [content.Post(post_id=POST, creator_id="alice", body="gm", version=1)]
        return content.ListAuthorPostsResponse(
            posts=posts if request.author_id == "alice" else [])


class Lifecycle:
    """Content's PostLifecycleService: alice's one post edits and deletes; others 404."""

    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    async def edit_post(self, caller: Principal, request: lifecycle.EditPostRequest
                        ) -> content.Post:
        self.calls.names.append("edit_post")
        if request.post_id != POST:
            raise NotFound(f"post {request.post_id!r} not found")
        return content.Post(post_id=POST, creator_id="alice", body=request.body or "gm",
                            version=2, revision=2)

    async def delete_post(self, caller: Principal, request: lifecycle.DeletePostRequest
                          ) -> content.Post:
        self.calls.names.append("delete_post")
        if request.post_id != POST:
            raise NotFound(f"post {request.post_id!r} not found")
        return content.Post(post_id=POST, creator_id="alice", body="gm", version=2,
                            deleted_at_ms=1)

    async def list_revisions(self, caller: Principal,
                             request: lifecycle.ListPostRevisionsRequest
                             ) -> lifecycle.ListPostRevisionsResponse:
        self.calls.names.append("list_revisions")
        if request.post_id != POST:
            raise NotFound(f"post {request.post_id!r} not found")
        return lifecycle.ListPostRevisionsResponse(revisions=[content.Post(
            post_id=POST, creator_id="alice", body="gm", version=1, revision=1)])


class Incentive:
    """The weekly pool as the incentive service would answer it for alice, who has an
    estimate, one settled week (2026-W01) and one item; other creators have nothing (404).
    Authorization is the gateway's to check here, so the stand-in answers whoever asks."""

    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    async def creator_estimate(self, caller: Principal, request: incentive.CreatorWeekRequest
                               ) -> pool.CreatorEstimate:
        self.calls.names.append("creator_estimate")
        return pool.CreatorEstimate(
            creator_id=request.creator_id, week=request.week or "2026-W01", as_of_ms=1,
            estimated_minor=1_500_000, score=1000, asset="USDT", pool_minor=10_000_000,
            items=[pool.ItemAmount(item_id=POST, amount_minor=1_500_000,
                                   dwell_minor=1_000_000, interaction_minor=500_000)],
            tiers=[pool.TierAmount(tier="verified", amount_minor=1_500_000, consumers=3)],
            discounts=[pool.DiscountLine(reason="self_engagement", item_id=POST, events=1,
                                         quantity=30)],
            policy_version="v1", policy_hash="ab" * 32,
            activity=pool.WeekActivity(views=5, unique_viewers=3, dwell_seconds=90))

    async def creator_weeks(self, caller: Principal,
                            request: incentive.ListCreatorWeeksRequest) -> incentive.CreatorWeeks:
        self.calls.names.append("creator_weeks")
        if request.creator_id != "alice":
            return incentive.CreatorWeeks()
        return incentive.CreatorWeeks(weeks=[incentive.CreatorWeekSummary(
            week=SETTLED_WEEK, allocated_minor=1_500_000, payable_minor=1_500_000, asset="USDT",
            payout_state="paid", merkle_root="cd" * 32)])

    async def creator_week(self, caller: Principal, request: incentive.CreatorWeekRequest
                           ) -> pool.CreatorWeekResult:
        self.calls.names.append("creator_week")
        if request.creator_id != "alice" or request.week != SETTLED_WEEK:
            raise NotFound("no settled result of this creator in this week")
        return pool.CreatorWeekResult(
            week=SETTLED_WEEK, creator_id="alice", creator_int_id=7, status="paid", score=1000,
            allocated_minor=1_500_000, payable_minor=1_500_000, asset="USDT",
            items=[pool.ItemAmount(item_id=POST, amount_minor=1_500_000)],
            proof=[pool.ProofStep(sibling="ef" * 32, sibling_is_left=True)],
            merkle_root="cd" * 32, policy_version="v1", policy_hash="ab" * 32)

    async def item_ledger(self, caller: Principal, request: incentive.ListItemLedgerRequest
                          ) -> incentive.ItemLedgerPage:
        self.calls.names.append("item_ledger")
        return incentive.ItemLedgerPage(items=[incentive.ItemLedger(
            item_id=POST, lifetime_minor=1_500_000, asset="USDT",
            weeks=[incentive.ItemLedgerWeek(week=SETTLED_WEEK, amount_minor=1_500_000)])])

    async def creator_center(self, caller: Principal, request: incentive.CreatorCenterRequest
                             ) -> incentive.CreatorCenter:
        self.calls.names.append("creator_center")
        return incentive.CreatorCenter(
            creator_id=request.creator_id, asset="USDT",
            weeks=[incentive.CreatorWeekStats(week=SETTLED_WEEK, views=5, settled_minor=1,
                                              settled=True)],
            items=[incentive.ItemWeekStats(item_id=POST, week=SETTLED_WEEK, views=5)])

    async def settled_weeks(self, caller: Principal,
                            request: incentive.ListSettledWeeksRequest) -> incentive.SettledWeeks:
        self.calls.names.append("settled_weeks")
        return incentive.SettledWeeks(weeks=[pool.WeekSettled(
            week=SETTLED_WEEK, pool_minor=10_000_000, asset="USDT", creators_paid=1,
            creators=1, merkle_root="cd" * 32)])

    async def fund_pool(self, caller: Principal, request: incentive.FundPoolRequest
                        ) -> incentive.PoolFunding:
        self.calls.names.append("fund_pool")
        return incentive.PoolFunding(week=request.week, funded_minor=request.amount_minor,
                                     asset=request.asset, applied=True)

    async def publish_policy(self, caller: Principal, request: incentive.PublishPolicyRequest
                             ) -> pool.PolicyPublished:
        self.calls.names.append("publish_policy")
        return pool.PolicyPublished(version=request.version,
                                    effective_week=request.effective_week,
                                    policy_json=request.policy_json, policy_hash="ab" * 32,
                                    operator_id=caller.user_id, at_ms=1)

    async def shadow_compare(self, caller: Principal, request: incentive.ShadowCompareRequest
                             ) -> incentive.ShadowComparison:
        self.calls.names.append("shadow_compare")
        return incentive.ShadowComparison(week=request.week, mode="final",
                                          differences=[incentive.CreatorDifference(
                                              creator_id="alice", current_minor=2,
                                              candidate_minor=1, delta_minor=-1)])

    async def close_week(self, caller: Principal, request: incentive.CloseWeekRequest
                         ) -> incentive.CloseWeekAnswer:
        self.calls.names.append("close_week")
        return incentive.CloseWeekAnswer(week=request.week, accepted=False,
                                         detail="the week's policy does not allow early close")

    async def decide_held(self, caller: Principal, request: incentive.DecideHeldRequest
                          ) -> pool.HeldDecided:
        self.calls.names.append("decide_held")
        return pool.HeldDecided(week=request.week, creator_id=request.creator_id,
                                decision=request.decision, amount_minor=5, asset="USDT",
                                operator_id=caller.user_id, reason=request.reason, at_ms=1,
                                decision_id=request.decision_id)

    async def late_facts(self, caller: Principal, request: incentive.ListLateFactsRequest
                         ) -> incentive.LateFactsPage:
        self.calls.names.append("late_facts")
        return incentive.LateFactsPage(late=[pool.FactsLate(
            week=request.week, topic="planet.incentive.view-facts.v1", partition=0, offset=9,
            rows=2, reason="after the cut", event_ids=["e1"])])


class Analytics:
    """Answers every statement with one row."""

    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    async def query(self, caller: Principal, sql: str) -> QueryAnswer:
        self.calls.names.append("query")
        return QueryAnswer(["n"], [[1]], False)


class Interactions:
    """Content's InteractionService: echoes each action on the item named."""

    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    def _comment(self, post_id: str, comment_id: str, text: str) -> interactions.Comment:
        return interactions.Comment(comment_id=comment_id, post_id=post_id, author_id="alice",
                                    text=text)

    async def post_comment(self, caller: Principal, request: interactions.PostCommentRequest
                           ) -> interactions.Comment:
        self.calls.names.append("post_comment")
        return self._comment(request.post_id, "cmt_" + "0" * 24 + "_" + "1" * 24, request.text)

    async def edit_comment(self, caller: Principal, request: interactions.EditCommentRequest
                           ) -> interactions.Comment:
        self.calls.names.append("edit_comment")
        return self._comment("post_" + "0" * 24, request.comment_id, request.text)

    async def delete_comment(self, caller: Principal,
                             request: interactions.DeleteCommentRequest
                             ) -> interactions.DeleteCommentResponse:
        self.calls.names.append("delete_comment")
        return interactions.DeleteCommentResponse(comment_id=request.comment_id)

    async def list_comments(self, caller: Principal, request: interactions.ListCommentsRequest
                            ) -> interactions.ListCommentsResponse:
        self.calls.names.append("list_comments")
        return interactions.ListCommentsResponse()

    async def like(self, caller: Principal, request: interactions.LikeRequest, *, on: bool
                   ) -> interactions.LikeState:
        self.calls.names.append("like" if on else "unlike")
        return interactions.LikeState(item_id=request.item_id, liked=on,
                                      stats=interactions.ItemStats(likes=int(on)))

    async def share(self, caller: Principal, request: interactions.ShareRequest
                    ) -> interactions.ShareView:
        self.calls.names.append("share")
        return interactions.ShareView(share_id="shr_" + "0" * 24 + "_" + "1" * 24,
                                      post_id=request.post_id, user_id="alice")

    async def item_stats(self, caller: Principal, item_id: str) -> interactions.ItemStats:
        return interactions.ItemStats()


class Topics:
    """Content's TopicService: one BTC/USDT instrument, no arenas, empty topic pages."""

    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    async def list_topic_posts(self, caller: Principal, request: topics.ListTopicPostsRequest
                               ) -> topics.ListTopicPostsResponse:
        self.calls.names.append("list_topic_posts")
        return topics.ListTopicPostsResponse(topic=request.topic.lower())

    async def list_arena_posts(self, caller: Principal, request: topics.ListArenaPostsRequest
                               ) -> topics.ListTopicPostsResponse:
        raise NotFound(f"no arena {request.arena_id!r}")

    async def put_arena(self, caller: Principal, request: topics.PutArenaRequest
                        ) -> topics.Arena:
        self.calls.names.append("put_arena")
        return topics.Arena(arena_id=request.arena_id, name=request.name,
                            topics=request.topics, updated_at_ms=1)

    async def list_arenas(self, caller: Principal) -> topics.ListArenasResponse:
        return topics.ListArenasResponse()

    async def list_instruments(self, caller: Principal) -> topics.ListInstrumentsResponse:
        return topics.ListInstrumentsResponse(instruments=[topics.Instrument(
            symbol="BTC/USDT", base="BTC", quote="USDT", status="trading",
            last_price="64000.25", at_ms=1)])


class Social:
    """alice's identity (@alice) and nobody else's; every change answers alice's identity."""

    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    def _identity(self, user_id: str) -> social.Identity:
        return social.Identity(user_id=user_id, handle="alice",
                               status=social.IDENTITY_STATUS_OPEN)

    async def open_identity(self, caller: Principal,
                            request: social.OpenIdentityRequest) -> social.Identity:
        self.calls.names.append("open_identity")
        return self._identity(request.user_id)

    async def change_handle(self, caller: Principal,
                            request: social.ChangeHandleRequest) -> social.Identity:
        self.calls.names.append("change_handle")
        return self._identity(request.user_id)

    async def update_profile(self, caller: Principal,
                             request: social.UpdateProfileRequest) -> social.Identity:
        self.calls.names.append("update_profile")
        return self._identity(request.user_id)

    async def get_profile(self, caller: Principal,
                          request: social.GetProfileRequest) -> social.HomePage:
        self.calls.names.append("get_profile")
        if "alice" not in (request.handle, request.user_id):
            raise NotFound("no such creator")
        return social.HomePage(user_id="alice", handle="alice",
                               status=social.IDENTITY_STATUS_OPEN)

    async def moderate(self, caller: Principal, action: str,
                       request: social.IdentityActionRequest) -> social.Identity:
        self.calls.names.append(action)
        return self._identity(request.user_id)

    def _sanction(self, user_id: str, sanction_id: str = "sanc_" + "0" * 20) -> social.Sanction:
        return social.Sanction(sanction_id=sanction_id, user_id=user_id, reason="spam",
                               status=social.SANCTION_STATUS_ACTIVE)

    async def sanction(self, caller: Principal,
                       request: social.SanctionAccountRequest) -> social.Sanction:
        self.calls.names.append("sanction")
        return self._sanction(request.user_id)

    async def lift_sanction(self, caller: Principal,
                            request: social.LiftSanctionRequest) -> social.Sanction:
        self.calls.names.append("lift_sanction")
        return self._sanction(request.user_id, request.sanction_id)

    async def appeal(self, caller: Principal,
                     request: social.AppealSanctionRequest) -> social.Sanction:
        self.calls.names.append("appeal")
        return self._sanction(request.user_id, request.sanction_id)

    async def sanctions(self, caller: Principal, user_id: str) -> social.Sanctions:
        self.calls.names.append("sanctions")
        return social.Sanctions(sanctions=[self._sanction(user_id)])

    async def get_track_record(self, caller: Principal,
                               request: social.GetTrackRecordRequest) -> TrackRecord:
        self.calls.names.append("get_track_record")
        if request.user_id != "alice":
            raise NotFound("no creator with this user id")
        return TrackRecord(user_id="alice")

    async def set_track_record_visibility(
            self, caller: Principal, request: social.SetTrackRecordVisibilityRequest,
    ) -> social.Identity:
        self.calls.names.append("set_track_record_visibility")
        return self._identity(request.user_id)

    async def follow(self, caller: Principal,
                     request: social.FollowRequest) -> social.FollowState:
        self.calls.names.append("follow")
        return social.FollowState(following=True, creator_follower_count=1)

    async def unfollow(self, caller: Principal,
                       request: social.FollowRequest) -> social.FollowState:
        self.calls.names.append("unfollow")
        return social.FollowState()

    async def set_bell(self, caller: Principal,
                       request: social.SetBellRequest) -> social.FollowState:
        self.calls.names.append("set_bell")
        return social.FollowState(following=True, bell=request.on, creator_follower_count=1)

    async def list_follows(self, caller: Principal, which: str,
                           request: social.ListFollowsRequest) -> social.FollowPage:
        self.calls.names.append(which)
        return social.FollowPage(user_ids=["alice"])

    async def relate(self, caller: Principal, action: str,
                     request: social.RelationRequest) -> social.RelationState:
        self.calls.names.append(action)
        return social.RelationState(blocking=action == "block", muting=action == "mute")

    async def list_relations(self, caller: Principal, which: str,
                             request: social.ListFollowsRequest) -> social.FollowPage:
        self.calls.names.append(which)
        return social.FollowPage(user_ids=["alice"])

    async def decide_appeal(self, caller: Principal,
                            request: social.DecideAppealRequest) -> social.Sanction:
        self.calls.names.append("decide_appeal")
        return self._sanction(request.user_id, request.sanction_id)

    async def list_notifications(
            self, caller: Principal, request: social.ListNotificationsRequest,
    ) -> social.NotificationPage:
        self.calls.names.append("list_notifications")
        return social.NotificationPage(last_position=1, unread=1)

    async def mark_notifications_read(
            self, caller: Principal, request: social.MarkNotificationsReadRequest,
    ) -> social.NotificationPage:
        self.calls.names.append("mark_notifications_read")
        return social.NotificationPage(last_position=1, read_up_to=1)


@dataclass
class Events:
    """Keeps what was published."""

    published: list[Envelope] = field(default_factory=list)

    async def publish_batch(self, envelope: Envelope) -> None:
        self.published.append(envelope)


def dev_settings(**overrides: Any) -> GatewaySettings:
    """A dev-mode gateway with small limits."""
    values: dict[str, Any] = {"dev_mode": True, "jwt_secret": SECRET, "ws_poll_s": 0.05}
    values.update(overrides)
    return GatewaySettings(**values)


def app_client(settings: GatewaySettings, events: EventSink | None = None,
               calls: Calls | None = None) -> TestClient:
    """A TestClient over the real app with stand-in backends."""
    calls = calls or Calls()
    sink = events or Events()

    @asynccontextmanager
    async def factory(_: GatewaySettings) -> AsyncIterator[Backends]:
        yield Backends(Content(calls), Incentive(calls), sink,
                       lambda: time.time_ns() // 1_000_000, social=Social(calls),
                       topics=Topics(calls), lifecycle=Lifecycle(calls),
                       interactions=Interactions(calls), drafts=Drafts(calls),
                       reports=Reports(calls), estimates=idle_estimate_hub())

    return TestClient(create_app(settings, factory))


def idle_estimate_hub() -> EstimateHub:
    """An estimate hub that is never started (no Kafka here): sockets subscribe to it and
    get the current estimate; a test may ``deliver`` to it by hand."""

    def no_consumer() -> Any:
        raise AssertionError("the idle estimate hub never reads Kafka")

    return EstimateHub(no_consumer, "planet.incentive.estimates.v1", 1)


def dev_token(user_id: str, roles: list[str] | None = None) -> str:
    """An HS256 dev-mode token."""
    return issue_token(SECRET, user_id, roles or [], now_s=int(time.time()), ttl_s=600)


class FreshBearer(Mapping[str, str]):
    """The Authorization header of a dev token minted at each use: a module-level token is
    minted at collection and expires (10 min) before a long suite reaches its test."""

    def __init__(self, user_id: str, roles: list[str] | None = None) -> None:
        self._user_id = user_id
        self._roles = roles

    def __getitem__(self, key: str) -> str:
        if key != "Authorization":
            raise KeyError(key)
        return f"Bearer {dev_token(self._user_id, self._roles)}"

    def __iter__(self) -> Iterator[str]:
        return iter(("Authorization",))

    def __len__(self) -> int:
        return 1


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}
