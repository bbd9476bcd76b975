"""What the gateway needs from the rest of the system, as small interfaces.

Every call to another service names the verified user it is made for (``caller``): the
service receives that user in the call's signed assertion and authorizes them itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from google.protobuf.message import Message

from gateway.auth import Principal
from gateway.estimate_hub import EstimateHub
from gateway.group_hub import GroupHub
from gateway.notification_hub import NotificationHub
from planet.content.v1 import content_service_pb2 as content
from planet.content.v1 import drafts_pb2 as drafts
from planet.content.v1 import interactions_pb2 as interactions
from planet.content.v1 import post_lifecycle_pb2 as lifecycle
from planet.content.v1 import reports_pb2 as reports
from planet.content.v1 import topics_pb2 as topics
from planet.events.v1.envelope_pb2 import Envelope
from planet.groups.v1 import groups_service_pb2 as groups
from planet.incentive.v1 import incentive_service_pb2 as incentive
from planet.incentive.v1 import weekly_pool_pb2 as pool
from planet.social.v1 import social_service_pb2 as social
from planet.social.v1.track_record_pb2 import TrackRecord


class ContentPort(Protocol):
    """The content service; errors arrive as gateway.errors.GatewayError subclasses."""

    async def publish_post(
        self, caller: Principal, request: content.PublishPostRequest
    ) -> content.Post:
        """Publish (idempotent on request_id)."""

    async def get_post(self, caller: Principal, post_id: str) -> content.Post:
        """A post; NotFound when there is none."""

    async def resolve_authors(self, caller: Principal, item_ids: list[str]) -> dict[str, str]:
        """Creator of each known item."""

    async def list_author_posts(
        self, caller: Principal, request: content.ListAuthorPostsRequest
    ) -> content.ListAuthorPostsResponse:
        """A page of an author's posts, newest first."""


class IncentivePort(Protocol):
    """The incentive service: estimates, the weekly pool's results and its operations.

    Its FAILED_PRECONDITION arrives as a 409 Conflict (a week not closable or not settled
    yet, a held amount already decided): the state of the pool, not the caller's identity.
    """

    async def creator_estimate(self, caller: Principal, request: incentive.CreatorWeekRequest
                               ) -> pool.CreatorEstimate:
        """The running estimate of a creator's current week ("" = current week)."""

    async def creator_weeks(self, caller: Principal, request: incentive.ListCreatorWeeksRequest
                            ) -> incentive.CreatorWeeks:
        """A creator's settled weeks, newest first."""

    async def creator_week(self, caller: Principal, request: incentive.CreatorWeekRequest
                           ) -> pool.CreatorWeekResult:
        """One settled week of a creator: breakdown, proof, root."""

    async def item_ledger(self, caller: Principal, request: incentive.ListItemLedgerRequest
                          ) -> incentive.ItemLedgerPage:
        """A page of a creator's per-item ledger."""

    async def creator_center(self, caller: Principal, request: incentive.CreatorCenterRequest
                             ) -> incentive.CreatorCenter:
        """A creator's center: per week and per item activity and earnings."""

    async def settled_weeks(self, caller: Principal, request: incentive.ListSettledWeeksRequest
                            ) -> incentive.SettledWeeks:
        """Settled weeks (public), newest first."""

    async def fund_pool(self, caller: Principal, request: incentive.FundPoolRequest
                        ) -> incentive.PoolFunding:
        """Operators: fund a week's pool (idempotent by funding id)."""

    async def publish_policy(self, caller: Principal, request: incentive.PublishPolicyRequest
                             ) -> pool.PolicyPublished:
        """Operators: publish a policy taking effect from a future week."""

    async def shadow_compare(self, caller: Principal, request: incentive.ShadowCompareRequest
                             ) -> incentive.ShadowComparison:
        """Operators: a candidate policy's per-creator differences on a week."""

    async def close_week(self, caller: Principal, request: incentive.CloseWeekRequest
                         ) -> incentive.CloseWeekAnswer:
        """Operators: ask to close a week early (honoured only by policy)."""

    async def decide_held(self, caller: Principal, request: incentive.DecideHeldRequest
                          ) -> pool.HeldDecided:
        """Operators: release or forfeit a creator's held amount."""

    async def late_facts(self, caller: Principal, request: incentive.ListLateFactsRequest
                         ) -> incentive.LateFactsPage:
        """Operators: a page of a closed week's late facts."""


class SocialPort(Protocol):
    """The social service: identities, home pages and sanctions."""

    async def open_identity(self, caller: Principal,
                            request: social.OpenIdentityRequest) -> social.Identity:
        """Open the caller's identity (403 naming the reason without KYC)."""

    async def change_handle(self, caller: Principal,
                            request: social.ChangeHandleRequest) -> social.Identity:
        """Change the caller's handle."""

    async def update_profile(self, caller: Principal,
                             request: social.UpdateProfileRequest) -> social.Identity:
        """Replace the caller's profile."""

    async def get_profile(self, caller: Principal,
                          request: social.GetProfileRequest) -> social.HomePage:
        """A home page by user id or handle."""

    async def moderate(self, caller: Principal, action: str,
                       request: social.IdentityActionRequest) -> social.Identity:
        """suspend, reinstate or close an identity (operators)."""

    async def sanction(self, caller: Principal,
                       request: social.SanctionAccountRequest) -> social.Sanction:
        """Sanction an account (operators)."""

    async def lift_sanction(self, caller: Principal,
                            request: social.LiftSanctionRequest) -> social.Sanction:
        """Lift a sanction (operators)."""

    async def appeal(self, caller: Principal,
                     request: social.AppealSanctionRequest) -> social.Sanction:
        """Appeal one of the caller's sanctions, once."""

    async def sanctions(self, caller: Principal, user_id: str) -> social.Sanctions:
        """An account's sanctions (its holder or an operator)."""

    async def get_track_record(self, caller: Principal,
                               request: social.GetTrackRecordRequest) -> TrackRecord:
        """A user's track record (404 when hidden from the caller)."""

    async def set_track_record_visibility(
            self, caller: Principal, request: social.SetTrackRecordVisibilityRequest,
    ) -> social.Identity:
        """The creator hides or shows their track record."""

    async def follow(self, caller: Principal,
                     request: social.FollowRequest) -> social.FollowState:
        """The caller follows a creator."""

    async def unfollow(self, caller: Principal,
                       request: social.FollowRequest) -> social.FollowState:
        """The caller unfollows a creator."""

    async def set_bell(self, caller: Principal,
                       request: social.SetBellRequest) -> social.FollowState:
        """The caller's bell for a followed creator."""

    async def list_follows(self, caller: Principal, which: str,
                           request: social.ListFollowsRequest) -> social.FollowPage:
        """A page of ``followers`` or ``following``."""

    async def list_notifications(
            self, caller: Principal, request: social.ListNotificationsRequest,
    ) -> social.NotificationPage:
        """The caller's own notifications after a position."""

    async def mark_notifications_read(
            self, caller: Principal, request: social.MarkNotificationsReadRequest,
    ) -> social.NotificationPage:
        """The caller marks their notifications read up to a position."""

    async def relate(self, caller: Principal, action: str,
                     request: social.RelationRequest) -> social.RelationState:
        """The caller blocks, unblocks, mutes or unmutes a user."""

    async def list_relations(self, caller: Principal, which: str,
                             request: social.ListFollowsRequest) -> social.FollowPage:
        """A page of the caller's own ``blocked`` or ``muted`` users."""

    async def decide_appeal(self, caller: Principal,
                            request: social.DecideAppealRequest) -> social.Sanction:
        """An operator grants or denies an appeal."""


class GroupsPort(Protocol):
    """The groups service (services/groups); a refusal arrives as
    gateway.group_refusals.GroupRefused, other failures as GatewayError subclasses."""

    async def command(self, caller: Principal, name: str, request: Message
                      ) -> groups.CommandResult:
        """The command RPC ``name`` (e.g. "PostMessage"), idempotent by its request_id."""

    async def get_group(self, caller: Principal, request: groups.GroupRequest
                        ) -> groups.GroupView:
        """A group as the caller may see it."""

    async def list_groups(self, caller: Principal, request: groups.ListGroupsRequest
                          ) -> groups.GroupPage:
        """Public groups."""

    async def list_members(self, caller: Principal, request: groups.ListMembersRequest
                           ) -> groups.MemberPage:
        """A group's members."""

    async def history(self, caller: Principal, request: groups.HistoryRequest
                      ) -> groups.HistoryPage:
        """Messages around a seq, as the caller may see them."""

    async def admin_log(self, caller: Principal, request: groups.AdminLogRequest
                        ) -> groups.AdminLogPage:
        """Moderation facts (staff)."""

    async def unread(self, caller: Principal, request: groups.UnreadRequest
                     ) -> groups.UnreadPage:
        """The caller's unread counts."""

    async def resolve_group_items(self, caller: Principal, group_ids: list[str]
                                  ) -> dict[str, str]:
        """The owner of each group the caller may read now (telemetry: dwell on a group is
        its owner's); the groups the caller may not read are left out."""


@dataclass(frozen=True)
class QueryAnswer:
    """Column names and rows of a query (integers exact), and whether rows were left out."""

    columns: list[str]
    rows: list[list[object]]
    truncated: bool


class AnalyticsPort(Protocol):
    """The analytics sink's read-only SQL; a 400 GatewayError for a statement it refuses."""

    async def query(self, caller: Principal, sql: str) -> QueryAnswer:
        """Columns and rows of one read-only statement."""


class EventSink(Protocol):
    """Where the gateway's own events go (ENGAGEMENT_BATCHES)."""

    async def publish_batch(self, envelope: Envelope) -> None:
        """Append and wait for the ack; UpstreamUnavailable otherwise."""


class PostLifecyclePort(Protocol):
    """Content's edits, deletes and revisions (gateway/adapters/lifecycle_client.py)."""

    async def edit_post(self, caller: Principal, request: lifecycle.EditPostRequest
                        ) -> content.Post:
        """A new revision of the caller's post."""

    async def delete_post(self, caller: Principal, request: lifecycle.DeletePostRequest
                          ) -> content.Post:
        """Delete the caller's post."""

    async def list_revisions(self, caller: Principal,
                             request: lifecycle.ListPostRevisionsRequest
                             ) -> lifecycle.ListPostRevisionsResponse:
        """A page of a post's revisions."""


class DraftsPort(Protocol):
    """Content's DraftService (gateway/adapters/drafts_client.py): the caller's own drafts."""

    async def save_draft(self, caller: Principal, request: drafts.SaveDraftRequest
                         ) -> drafts.Draft:
        """A new draft."""

    async def update_draft(self, caller: Principal, request: drafts.UpdateDraftRequest
                           ) -> drafts.Draft:
        """The draft's next revision."""

    async def get_draft(self, caller: Principal, request: drafts.GetDraftRequest
                        ) -> drafts.Draft:
        """One draft."""

    async def list_drafts(self, caller: Principal, request: drafts.ListDraftsRequest
                          ) -> drafts.ListDraftsResponse:
        """The caller's drafts."""

    async def discard_draft(self, caller: Principal, request: drafts.DiscardDraftRequest
                            ) -> drafts.DiscardDraftResponse:
        """Discard one."""

    async def publish_draft(self, caller: Principal, request: drafts.PublishDraftRequest
                            ) -> content.Post:
        """Publish one as an article."""


class InteractionsPort(Protocol):
    """Content's comments, likes and shares (gateway/adapters/interactions_client.py)."""

    async def post_comment(self, caller: Principal, request: interactions.PostCommentRequest
                           ) -> interactions.Comment:
        """Comment or reply (idempotent on request_id)."""

    async def edit_comment(self, caller: Principal, request: interactions.EditCommentRequest
                           ) -> interactions.Comment:
        """Edit one's own comment."""

    async def delete_comment(self, caller: Principal,
                             request: interactions.DeleteCommentRequest
                             ) -> interactions.DeleteCommentResponse:
        """Delete one's own comment."""

    async def list_comments(self, caller: Principal, request: interactions.ListCommentsRequest
                            ) -> interactions.ListCommentsResponse:
        """A page of a thread."""

    async def like(self, caller: Principal, request: interactions.LikeRequest, *, on: bool
                   ) -> interactions.LikeState:
        """Like or unlike an item."""

    async def share(self, caller: Principal, request: interactions.ShareRequest
                    ) -> interactions.ShareView:
        """Share a post."""

    async def item_stats(self, caller: Principal, item_id: str) -> interactions.ItemStats:
        """An item's exact counts."""


class ReportsPort(Protocol):
    """Content's ReportService (gateway/adapters/reports_client.py)."""

    async def report(self, caller: Principal, request: reports.ReportItemRequest
                     ) -> reports.ReportItemResponse:
        """File a report."""

    async def queue(self, caller: Principal, request: reports.ListQueueRequest
                    ) -> reports.ListQueueResponse:
        """A page of the reports or appeals queue."""

    async def decide_reports(self, caller: Principal, request: reports.DecideReportsRequest
                             ) -> reports.ItemModeration:
        """Confirm or dismiss."""

    async def appeal(self, caller: Principal, request: reports.AppealRemovalRequest
                     ) -> reports.ItemModeration:
        """Appeal a removal."""

    async def decide_appeal(self, caller: Principal, request: reports.DecideAppealRequest
                            ) -> reports.ItemModeration:
        """Uphold or deny an appeal."""

    async def get(self, caller: Principal, item_id: str) -> reports.ItemModeration:
        """An item's moderation."""


class TopicsPort(Protocol):
    """Content's TopicService (gateway/adapters/topics_client.py)."""

    async def list_topic_posts(self, caller: Principal, request: topics.ListTopicPostsRequest
                               ) -> topics.ListTopicPostsResponse:
        """A page of a topic."""

    async def list_arena_posts(self, caller: Principal, request: topics.ListArenaPostsRequest
                               ) -> topics.ListTopicPostsResponse:
        """A page of an arena."""

    async def put_arena(self, caller: Principal, request: topics.PutArenaRequest
                        ) -> topics.Arena:
        """Define or replace an arena (operators)."""

    async def list_arenas(self, caller: Principal) -> topics.ListArenasResponse:
        """Every arena."""

    async def list_instruments(self, caller: Principal) -> topics.ListInstrumentsResponse:
        """The exchange's instruments."""


@dataclass(frozen=True)
class Backends:
    """Everything a request handler may call, built once by the composition root."""

    content: ContentPort
    incentive: IncentivePort
    events: EventSink
    clock_ms: Callable[[], int]
    # Optional so that setups without the analytics sink (and their fakes) need not name it.
    analytics: AnalyticsPort | None = None
    social: SocialPort | None = None
    # This process's live notification feed (one Kafka consumer); None: no live socket.
    notifications: NotificationHub | None = None
    # Content's TopicService (same process and channel as content); None: not wired.
    topics: TopicsPort | None = None
    # Content's InteractionService (same process and channel as content); None: not wired.
    interactions: InteractionsPort | None = None
    # Content's PostLifecycleService (same process and channel); None: not wired.
    lifecycle: PostLifecyclePort | None = None
    # Content's DraftService (same process and channel); None: not wired.
    drafts: DraftsPort | None = None
    # Content's ReportService (same process and channel); None: not wired.
    reports: ReportsPort | None = None
    # This process's live estimates (one Kafka consumer of ESTIMATES); None: no live socket.
    estimates: EstimateHub | None = None
    # The groups service (services/groups); None: not wired.
    groups: GroupsPort | None = None
    # This process's live group facts (one Kafka consumer of GROUP_EVENTS); None: no socket.
    group_hub: GroupHub | None = None
