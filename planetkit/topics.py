"""The topic registry: every topic's name, key, payload types, single writer and contract.

One writer per topic (as in confluentinc/kafka-streams-examples): a topic is an output of
exactly one service (a name from planetkit.service_identities), and no consumer writes back
into its own source. A producer made by planetkit.kafka.producer is bound to one identity
and refuses a topic registered to another.

Each topic also carries its operational contract: partitions, retention and cleanup policy
are the topic's own; replication factor and min ISR come from a profile (``dev`` on one
local broker, ``production`` on a cluster), chosen by PLANET_TOPIC_PROFILE. One tool
creates and checks them all: ``python -m planetkit.kafka.topics_tool`` (``make topics``,
the Helm chart's pre-install Job). A partition count is part of a topic's identity (keys
map to partitions, dedup and tables are per partition): changing it means a new topic
version (``.v2``) and a migration, never an in-place repartition.

Faust's own changelog topics (``<app id>-<table>-changelog``) are internal to the
incentive processor and are not listed here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from google.protobuf.message import Message

from planet.analytics.v1.audit_pb2 import QueryAccepted, QueryFinished
from planet.content.v1 import drafts_pb2 as drafts
from planet.content.v1 import interactions_pb2 as interactions
from planet.content.v1 import reports_pb2 as reports
from planet.content.v1.events_pb2 import PostDeleted, PostEdited, PostPublished
from planet.content.v1.topics_pb2 import ArenaDefined, TopicEngagement
from planet.engagement.v1.telemetry_pb2 import EngagementBatch
from planet.events.v1.envelope_pb2 import DeadLetter
from planet.exchange.v1.events_pb2 import KycVerified, OrderFilled, TradeFeeCharged
from planet.exchange.v2 import events_pb2 as exchange_v2
from planet.exchange.v2 import payouts_pb2 as payouts
from planet.exchange.v2.instruments_pb2 import InstrumentListed
from planet.groups.v1 import group_events_pb2 as groups
from planet.incentive.v1 import facts_pb2 as facts
from planet.incentive.v1 import weekly_pool_pb2 as pool
from planet.incentive.v1.engagement_pb2 import DedupCheckpoint, EngagementDeltas
from planet.social.v1 import events_pb2 as social
from planet.social.v1 import graph_pb2 as graph
from planet.social.v1 import notifications_pb2 as notifications
from planetkit.service_identities import (
    ANALYTICS,
    CONTENT,
    ENGAGEMENT_AGGREGATOR,
    EXCHANGE,
    GATEWAY,
    GROUPS,
    INCENTIVE,
    SOCIAL,
    WRITERS,
)

# -1 keeps records forever: the log is the source of truth for replay.
FOREVER = -1


@dataclass(frozen=True)
class TopicProfile:
    """How many copies of every partition a cluster keeps, and how many must ack a write."""

    name: str
    replication_factor: int
    # With acks=all (every Planet producer) a write needs this many in-sync copies: on a
    # 3-copy topic, 2 lets one broker be down while no acknowledged write lives on one disk.
    min_insync_replicas: int


DEV = TopicProfile("dev", replication_factor=1, min_insync_replicas=1)
PRODUCTION = TopicProfile("production", replication_factor=3, min_insync_replicas=2)
PROFILES: dict[str, TopicProfile] = {p.name: p for p in (DEV, PRODUCTION)}


def profile_named(name: str) -> TopicProfile:
    """The profile called ``name``; ValueError naming the choices otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"unknown topic profile {name!r}: choose one of {', '.join(PROFILES)}"
        ) from None


@dataclass(frozen=True)
class TopicContract:
    """What the cluster must hold for one topic under one profile."""

    name: str
    partitions: int
    replication_factor: int
    min_insync_replicas: int
    retention_ms: int
    compacted: bool

    @property
    def cleanup_policy(self) -> str:
        """Kafka's cleanup.policy."""
        return "compact" if self.compacted else "delete"

    def configs(self) -> dict[str, str]:
        """The topic-level broker configs this contract sets (and the tool keeps set)."""
        return {
            "cleanup.policy": self.cleanup_policy,
            "retention.ms": str(self.retention_ms),
            # Retention is by time only, as the registry says: a broker default such as
            # log.retention.bytes would otherwise delete a kept-forever log (the posts topic
            # is content's changelog) once a partition outgrows it.
            "retention.bytes": "-1",
            "min.insync.replicas": str(self.min_insync_replicas),
        }


@dataclass(frozen=True)
class Topic:
    """A registered topic."""

    name: str
    key: str
    payloads: tuple[type[Message], ...]
    writer: str
    partitions: int = 4
    compacted: bool = False
    retention_ms: int = FOREVER
    enveloped: bool = True

    def __post_init__(self) -> None:
        if self.writer not in WRITERS:
            raise ValueError(
                f"topic {self.name}: writer {self.writer!r} is not an identity in "
                f"planetkit.service_identities ({', '.join(WRITERS)})"
            )
        if self.partitions < 1:
            raise ValueError(f"topic {self.name}: partitions must be at least 1")

    def contract(self, profile: TopicProfile) -> TopicContract:
        """This topic's contract under ``profile``."""
        return TopicContract(
            name=self.name,
            partitions=self.partitions,
            replication_factor=profile.replication_factor,
            min_insync_replicas=profile.min_insync_replicas,
            retention_ms=self.retention_ms,
            compacted=self.compacted,
        )


POSTS = Topic("planet.content.posts.v1", "post id", (PostPublished, PostEdited, PostDeleted),
              CONTENT)
# Every post again, keyed by its author, written by content in the same Kafka transaction as
# the post itself (both land or neither does). Co-partitioned with POSTS (same count): the
# replica that owns partition p of one owns p of the other, and keeps an author's posts,
# newest first, in its store for p, so one owner answers a creator's list.
AUTHOR_POSTS = Topic(
    "planet.content.author-posts.v1", "author (creator) id",
    (PostPublished, PostEdited, PostDeleted, reports.ItemRemoved, reports.ItemRestored), CONTENT
)
# Long-form drafts, keyed by author and co-partitioned with AUTHOR_POSTS (same count): the
# owner of the author's partition decides and keeps their drafts. Private content: never sunk
# to analysts (planetkit/classification.py). Kept forever: it is the drafts' changelog.
DRAFTS = Topic(
    "planet.content.drafts.v1", "author (creator) id",
    (drafts.DraftSaved, drafts.DraftDiscarded, drafts.DraftPublished), CONTENT
)
# Comments, replies, likes and shares: actions users took through content's API, keyed by the
# post they belong to and co-partitioned with POSTS (same count): the post's owner replica
# decides each one and keeps its comments, likes and exact counters. Kept forever: it is the
# interactions' changelog, and the facts the incentive engine counts.
INTERACTIONS = Topic(
    "planet.content.interactions.v1",
    "post id",
    (
        interactions.CommentPosted,
        interactions.CommentEdited,
        interactions.CommentDeleted,
        interactions.ItemLiked,
        interactions.ItemUnliked,
        interactions.ItemShared,
    ),
    CONTENT,
)
# Every post again under each of its topics (normalised hashtags), keyed by topic, written by
# content in the same Kafka transaction as the post. Co-partitioned with POSTS (same count): the
# owner of partition p keeps the topics of p, each with its posts newest first, so one replica
# answers a topic page (services/content/domain/topics.py). Each comment, like and share of a
# post is copied here too, as a TopicEngagement under each of the post's topics, in the
# interaction's transaction: the most-engaged pages' feed (services/content/topic_engagement.py).
TOPIC_POSTS = Topic(
    "planet.content.topic-posts.v1", "topic (normalised hashtag)",
    (PostPublished, TopicEngagement, reports.ItemRemoved, reports.ItemRestored), CONTENT
)
# Reports, removals and appeals (reports.proto), keyed by the POST id (a comment's post) and
# co-partitioned with POSTS (same count): the post's owner replica decides every report,
# removal and appeal about the post and its comments, and keeps their moderation in its store
# for that partition. A post's removal and restoration are copied onto AUTHOR_POSTS and
# TOPIC_POSTS in the same transaction. Kept forever: the moderation's changelog and audit, and
# the removals the incentive engine honours.
MODERATION = Topic(
    "planet.content.moderation.v1",
    "post id",
    (reports.ItemReported, reports.ReportDecided, reports.ItemRemoved, reports.RemovalAppealed,
     reports.AppealDecided, reports.ItemRestored),
    CONTENT,
)
# Operator-curated topic sets (RWA, AI, ...), keyed by arena id: a small table every content
# replica keeps whole. Each record is the arena's whole state, so the latest per key wins.
ARENAS = Topic("planet.content.arenas.v1", "arena id", (ArenaDefined,), CONTENT, partitions=1)
ENGAGEMENT_BATCHES = Topic(
    "planet.engagement.batches.v1", "consumer id", (EngagementBatch,), GATEWAY
)
KYC = Topic("planet.exchange.kyc.v1", "user id", (KycVerified,), EXCHANGE)
# Fees and fills: schema 2 (planet.exchange.v2, Money with its asset) beside the v1 history on
# the same topics, so one user's facts stay in order on one partition; the envelope's type says
# which, and readers upcast v1 (planetkit.upcasters). The topic's .v1 names its key and
# partitioning, not its payload schema.
TRADE_FEES = Topic(
    "planet.exchange.trade-fees.v1",
    "user id",
    (exchange_v2.TradeFeeCharged, TradeFeeCharged),
    EXCHANGE,
)
FILLS = Topic(
    "planet.exchange.fills.v1", "user id", (exchange_v2.OrderFilled, OrderFilled), EXCHANGE
)
# The exchange's instrument list, keyed by symbol ("BTC/USDT"); each record is the instrument's
# whole state, so compaction keeps what readers need (content keeps every symbol in memory and
# validates trading components against it).
INSTRUMENTS = Topic(
    "planet.exchange.instruments.v1", "symbol", (InstrumentListed,), EXCHANGE, compacted=True
)
# Retired by VIEW_FACTS (issue 14): per-creator sums the model could not use. No writer since;
# kept registered so its history stays readable.
ENGAGEMENT_DELTAS = Topic(
    "planet.incentive.engagement-deltas.v1",
    "deltas-topic partition (creators hashed)",
    (EngagementDeltas,),
    ENGAGEMENT_AGGREGATOR,
)
# Retired by ENGAGEMENT_DEDUP_SNAPSHOT (never compacted: a restart replayed all of it);
# kept registered so its history stays readable.
ENGAGEMENT_DEDUP = Topic(
    "planet.incentive.engagement-dedup.v1",
    "input partition",
    (DedupCheckpoint,),
    ENGAGEMENT_AGGREGATOR,
)
# The aggregator's dedup memory as a compacted snapshot: per input partition, a full
# generation of ids then its tail, one ISO week per key, old weeks and generations
# tombstoned. Restore starts where the committed input offset's metadata says.
ENGAGEMENT_DEDUP_SNAPSHOT = Topic(
    "planet.incentive.engagement-dedup.v2",
    "input partition/generation/kind/week/n (p3/g7/snap/2026-W48/0)",
    (DedupCheckpoint,),
    ENGAGEMENT_AGGREGATOR,
    compacted=True,
)
# Dead letters are kept forever: each is a record nobody could read, for an operator to
# look at and replay; nothing else holds it.
DLQ_AGGREGATOR = Topic(
    "planet.dlq.engagement-aggregator.v1",
    "source topic",
    (DeadLetter,),
    ENGAGEMENT_AGGREGATOR,
    enveloped=False,
)
# Written by the incentive processor (the topic keeps the name it was created with).
DLQ_SCORING = Topic(
    "planet.dlq.scoring-processor.v1",
    "source topic",
    (DeadLetter,),
    INCENTIVE,
    enveloped=False,
)
# Written by the analytics service's sink (the topic keeps the name it was created with).
DLQ_ANALYTICS = Topic(
    "planet.dlq.analytics-sink.v1",
    "source topic",
    (DeadLetter,),
    ANALYTICS,
    enveloped=False,
)
# Who queried the analytics store what (written before a query runs, and when it ends). The
# sink never reads it: planetkit.classification marks it NotSunk.
ANALYTICS_QUERY_AUDIT = Topic(
    "planet.audit.analytics-queries.v1",
    "user id",
    (QueryAccepted, QueryFinished),
    ANALYTICS,
)
# Every fact about one account (identity, profile, sanctions, appeals), keyed by user id: the
# social service's changelog, so kept forever. Co-partitioned with planet.exchange.kyc.v1
# (same key, same count), so an account's KYC fact and identity live on the same partition.
SOCIAL_IDENTITIES = Topic(
    "planet.social.identities.v1",
    "user id",
    (
        social.CreatorIdentityOpened,
        social.HandleChanged,
        social.ProfileUpdated,
        social.IdentitySuspended,
        social.IdentityReinstated,
        social.IdentityClosed,
        social.AccountSanctioned,
        social.SanctionAppealed,
        social.SanctionLifted,
        social.AppealDecided,
        social.TrackRecordVisibilitySet,
    ),
    SOCIAL,
)
# The handle index's changelog, keyed by handle: a claim is decided on the handle's partition,
# so two users can never hold one handle (services/social/handlers.py says how).
SOCIAL_HANDLES = Topic(
    "planet.social.handles.v1",
    "handle",
    (social.HandleClaimed, social.HandleReleased),
    SOCIAL,
)

# Follows and bells, keyed by follower id: a user's own outgoing edges are decided on one
# partition in log order (a repeated follow is a repeat, never a second count; a bell needs
# the follow), and their following list and count live there. Kept forever: it is the
# graph's changelog, and Followed is the interaction fact the incentive engine counts.
SOCIAL_GRAPH = Topic(
    "planet.social.graph.v1",
    "follower id",
    (graph.Followed, graph.Unfollowed, graph.BellSet),
    SOCIAL,
)
# Blocks and mutes, keyed by the acting user (blocker, muter), co-partitioned with the graph
# and notification topics (same key space, same count). Apart from the graph topic because
# they are private content: this topic is never sunk, so not even the fact of a block
# reaches an analyst's table.
SOCIAL_BLOCKS = Topic(
    "planet.social.blocks.v1",
    "blocker or muter id",
    (graph.Blocked, graph.Unblocked, graph.Muted, graph.Unmuted),
    SOCIAL,
)
# The graph and block facts re-keyed by the other party (followee, blocked user), written by
# the social service as it applies the two topics above: the followee side (follower list and
# count, bell subscribers, "blocked by", "muted by") is kept on the followee's partition from
# this topic, so a creator's fan-out reads only its own partition.
# Not compacted: compaction keeps one record per key, and the key (the followee) has many
# edges; its consumer's store is the materialised table, with the offset in the same batch.
SOCIAL_GRAPH_INBOUND = Topic(
    "planet.social.graph-inbound.v1",
    "followee or blocked user id",
    (
        graph.Followed,
        graph.Unfollowed,
        graph.BellSet,
        graph.Blocked,
        graph.Unblocked,
        graph.Muted,
        graph.Unmuted,
    ),
    SOCIAL,
)
# Every user's notifications and read marks, keyed by recipient: one recipient's positions
# are assigned on one partition, in order.
SOCIAL_NOTIFICATIONS = Topic(
    "planet.social.notifications.v1",
    "recipient id",
    (notifications.NotificationCreated, notifications.NotificationsRead),
    SOCIAL,
)

# ---- The weekly pool (docs/incentives.md, "The pool, live") ----
# Views and dwell from client telemetry, deduplicated, at full detail (FactRows), written by the
# aggregator in the same transaction as its offsets; partition p holds what input partition p
# of planet.engagement.batches.v1 accepted (same count), one record per fetch (split at ~1 MiB)
# with a consumer column, keyed "p<p>". Kept forever: the log a week's settlement is replayed
# from.
VIEW_FACTS = Topic(
    "planet.incentive.view-facts.v1", "p<input partition>", (facts.FactRows,),
    ENGAGEMENT_AGGREGATOR,
)
# Comments, replies, likes, shares (content) and follows (social) as FactRows, one record per
# source event (its event id is the fact's), written by the incentive processor exactly once.
INTERACTION_FACTS = Topic(
    "planet.incentive.interaction-facts.v1", "consumer id", (facts.FactRows,), INCENTIVE
)
# The whole current status of each user (KYC, identity periods, sanctions, trailing fees) and
# each item (owner, removals), one record per change: compaction keeps the latest, so the topics
# hold one value per user and per item whatever their history.
USER_STATUS = Topic(
    "planet.incentive.user-status.v1", "user id", (facts.UserStatus,), INCENTIVE, compacted=True
)
ITEM_STATUS = Topic(
    "planet.incentive.item-status.v1", "item id", (facts.ItemStatus,), INCENTIVE, compacted=True
)
# Operators' decisions: fundings, policies, early closes, held amounts. One partition: the
# pool's decisions are few and read in one order by every replica.
INCENTIVE_OPERATIONS = Topic(
    "planet.incentive.operations.v1", "ISO week (\"policy\" for policies)",
    (pool.PoolFunded, pool.PolicyPublished, pool.WeekCloseRequested, pool.HeldDecided),
    INCENTIVE, partitions=1,
)
# Each week's close (with its cut of the fact topics), settlement and late facts. One
# partition: weeks are settled in order, and "written once" is checked on one log.
INCENTIVE_WEEKS = Topic(
    "planet.incentive.weeks.v1", "ISO week", (pool.WeekClosed, pool.WeekSettled, pool.FactsLate),
    INCENTIVE, partitions=1,
)
# Per-creator results of settled weeks, written in the settlement's transaction.
CREATOR_WEEKS = Topic(
    "planet.incentive.creator-weeks.v1", "creator id", (pool.CreatorWeekResult,), INCENTIVE
)
# The running estimate per creator; written only when it changed; compacted (latest wins).
ESTIMATES = Topic(
    "planet.incentive.estimates.v1", "creator id", (pool.CreatorEstimate,), INCENTIVE,
    compacted=True,
)
# Each weekly payout's state as the incentive service sees it.
PAYOUT_STATES = Topic(
    "planet.incentive.payouts.v1", "creator id", (pool.PayoutStateChanged,), INCENTIVE
)
# The payout command to the exchange (idempotent by payout id) and the exchange's answers.
PAYOUT_INSTRUCTIONS = Topic(
    "planet.exchange.payout-instructions.v1", "creator id", (payouts.PayoutInstructed,),
    INCENTIVE,
)
PAYOUTS = Topic(
    "planet.exchange.payouts.v1", "creator id",
    (payouts.PayoutConfirmed, payouts.PayoutRefused), EXCHANGE,
)

# ---- Group chats (issue 15, services/groups) ----
# Every fact of a group, keyed by group id: one group's facts are decided on one partition in
# log order and numbered 1, 2, 3... with no gap (each payload's seq, also the envelope's
# aggregate_version), so live delivery and catch-up after a reconnect are exact. The groups
# service's changelog (its per-key state is rebuilt from it), so kept forever. Never sunk:
# private group content (planetkit/classification.py). 8 partitions: groups scale by id, and
# a partition count is part of the topic's identity, so leave room from the start.
GROUP_FACTS = (
    groups.GroupCreated, groups.GroupInfoChanged, groups.OwnershipTransferred,
    groups.MemberJoined, groups.MemberLeft, groups.MemberRoleChanged, groups.MemberMuted,
    groups.MemberUnmuted, groups.MemberKicked, groups.MemberBanned, groups.MemberUnbanned,
    groups.InviteLinkCreated, groups.InviteLinkRevoked, groups.JoinRequested,
    groups.JoinRequestDecided, groups.SlowModeSet, groups.FilterRulesSet, groups.MessagePosted,
    groups.MessageEdited, groups.MessageDeleted, groups.MessageHeld, groups.HeldMessageDecided,
    groups.ReactionSet, groups.ReactionRemoved, groups.MessagePinned, groups.MessageUnpinned,
    groups.ReadPositionSet, groups.MemberReported, groups.GroupClosed,
    groups.GroupCloseAppealed, groups.AppealDecided,
)
GROUP_EVENTS = Topic("planet.groups.events.v1", "group id", GROUP_FACTS, GROUPS, partitions=8)
# The membership facts again, keyed by the member (an ownership transfer under both users),
# written by the groups service in the same transaction as the group's own: a user's list of
# groups and their unread counts across groups are kept on the user's partition, so "my
# groups" reads one partition whatever the number of groups. Never sunk (a copy, and private).
GROUP_MEMBER_INDEX = Topic(
    "planet.groups.member-index.v1", "user id",
    (groups.MemberJoined, groups.MemberLeft, groups.MemberKicked, groups.MemberBanned,
     groups.MemberUnbanned, groups.MemberRoleChanged, groups.OwnershipTransferred,
     # Read positions live here only (seq 0, never a group fact): 10 000 members reading
     # neither lengthen a group's log nor wake its live readers (services/groups/handlers.py).
     groups.ReadPositionSet),
    GROUPS, partitions=8,
)

ALL: tuple[Topic, ...] = (
    POSTS,
    AUTHOR_POSTS,
    DRAFTS,
    INTERACTIONS,
    TOPIC_POSTS,
    MODERATION,
    ARENAS,
    INSTRUMENTS,
    ENGAGEMENT_BATCHES,
    KYC,
    TRADE_FEES,
    FILLS,
    ENGAGEMENT_DELTAS,
    ENGAGEMENT_DEDUP,
    ENGAGEMENT_DEDUP_SNAPSHOT,
    DLQ_AGGREGATOR,
    DLQ_SCORING,
    DLQ_ANALYTICS,
    ANALYTICS_QUERY_AUDIT,
    SOCIAL_IDENTITIES,
    SOCIAL_HANDLES,
    SOCIAL_GRAPH,
    SOCIAL_BLOCKS,
    SOCIAL_GRAPH_INBOUND,
    SOCIAL_NOTIFICATIONS,
    VIEW_FACTS,
    INTERACTION_FACTS,
    USER_STATUS,
    ITEM_STATUS,
    INCENTIVE_OPERATIONS,
    INCENTIVE_WEEKS,
    CREATOR_WEEKS,
    ESTIMATES,
    PAYOUT_STATES,
    PAYOUT_INSTRUCTIONS,
    PAYOUTS,
    GROUP_EVENTS,
    GROUP_MEMBER_INDEX,
)
_BY_NAME: dict[str, Topic] = {t.name: t for t in ALL}


def with_suffix(topic: Topic, suffix: str) -> Topic:
    """The same topic under a suffixed name, so each test gets topics of its own."""
    return replace(topic, name=f"{topic.name}.{suffix}") if suffix else topic


def registered(name: str) -> Topic | None:
    """The registered topic ``name`` is (itself or under a suffix), or None.

    Registered names end in their version (``.v1``), so ``<registered name>.<suffix>``
    can only be that topic under with_suffix.
    """
    if name in _BY_NAME:
        return _BY_NAME[name]
    head = name
    while "." in head:
        head = head.rpartition(".")[0]
        if head in _BY_NAME:
            return replace(_BY_NAME[head], name=name)
    return None
