"""What every stored field is (public, personal, private content, secret) and which topics sink.

The analytics sink copies events into tables that analysts read. Which of a field's values an
analyst may see is decided here, in one place, keyed by the protobuf full name of the field
(``planet.exchange.v1.KycVerified.user_id``), and nowhere else:

- ``public``: stored as is for analysts and operators.
- ``personal``: identifies a person (user, consumer and creator ids, ids that embed them,
  exchange ids of a person's transactions, IPs). Analysts get a keyed pseudonym (HMAC-SHA256,
  see ``services/analytics/domain/pseudonyms.py``); operators get the value.
- ``private_content``: what a person shares with a chosen few or no one (drafts, private group
  messages, blocks, mutes) and opaque bytes that may hold anything. Never stored by the sink.
- ``secret``: credentials and keys. Never stored by the sink.

A message-typed field that is not listed is walked into: its own fields are classified one by
one. A map field must be listed (its keys are data too). Two envelope fields depend on the topic
(the Kafka key and the event id), so each sunk topic's ``Sunk`` policy classifies them; every
topic states its policy explicitly, ``NotSunk`` with the reason included.

Why a table here rather than custom proto field options: the sink also stores fields that are
not in any message (an engagement row is assembled from a batch's columns, the envelope's key
means a different thing per topic), the policy per topic has no home in a .proto, and options
would need an extension proto compiled into every generated module; one reviewed Python table,
enforced by a test that walks every payload descriptor, gives the same "cannot forget" guarantee
(see ``unclassified``) without that. docs/data-classification.md is the human-readable copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import cast

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from planet.events.v1.envelope_pb2 import Envelope
from planetkit.topics import Topic


class DataClass(StrEnum):
    """How sensitive a stored value is; decides who sees it and in what form."""

    PUBLIC = "public"
    PERSONAL = "personal"
    PRIVATE_CONTENT = "private_content"
    SECRET = "secret"


PUBLIC = DataClass.PUBLIC
PERSONAL = DataClass.PERSONAL
PRIVATE_CONTENT = DataClass.PRIVATE_CONTENT
SECRET = DataClass.SECRET

# Classes the sink never writes to any table, analyst or operator.
NEVER_STORED = frozenset({PRIVATE_CONTENT, SECRET})

ENVELOPE = Envelope.DESCRIPTOR.full_name
# Envelope fields whose class is the topic's business: the Sunk policy decides the first two,
# and the payload's own fields decide the third.
ENVELOPE_EVENT_ID = f"{ENVELOPE}.event_id"
ENVELOPE_AGGREGATE_ID = f"{ENVELOPE}.aggregate_id"
ENVELOPE_PAYLOAD = f"{ENVELOPE}.payload"
PER_TOPIC_ENVELOPE_FIELDS = frozenset({ENVELOPE_EVENT_ID, ENVELOPE_AGGREGATE_ID, ENVELOPE_PAYLOAD})

_FIELDS: dict[str, DataClass] = {
    # The envelope (planet.events.v1); event_id, aggregate_id and payload: per topic.
    f"{ENVELOPE}.type": PUBLIC,
    f"{ENVELOPE}.schema_version": PUBLIC,
    f"{ENVELOPE}.occurred_at_ms": PUBLIC,
    f"{ENVELOPE}.source": PUBLIC,
    f"{ENVELOPE}.aggregate_version": PUBLIC,
    # Dead letters: the record that could not be read. Its key is the source record's key
    # (often a user id), its value any bytes at all, its reason may quote ids from it.
    "planet.events.v1.DeadLetter.source_topic": PUBLIC,
    "planet.events.v1.DeadLetter.source_partition": PUBLIC,
    "planet.events.v1.DeadLetter.source_offset": PUBLIC,
    "planet.events.v1.DeadLetter.key": PERSONAL,
    "planet.events.v1.DeadLetter.value": PRIVATE_CONTENT,
    "planet.events.v1.DeadLetter.reason": PERSONAL,
    "planet.events.v1.DeadLetter.consumer": PUBLIC,
    "planet.events.v1.DeadLetter.dead_lettered_at_ms": PUBLIC,
    # Posts: published for everyone to read, so their text is public; who wrote them and whom
    # they mention are people. The post id is a digest, public in every post URL.
    "planet.content.v1.PostPublished.post_id": PUBLIC,
    "planet.content.v1.PostPublished.creator_id": PERSONAL,
    "planet.content.v1.PostPublished.kind": PUBLIC,
    "planet.content.v1.PostPublished.title": PUBLIC,
    "planet.content.v1.PostPublished.body": PUBLIC,
    "planet.content.v1.PostPublished.hashtags": PUBLIC,
    "planet.content.v1.PostPublished.mentions": PERSONAL,
    "planet.content.v1.PostPublished.published_at_ms": PUBLIC,
    "planet.content.v1.PostPublished.summary": PUBLIC,
    "planet.content.v1.PostPublished.cover_image_url": PUBLIC,
    # An edit carries the post's new public content (every revision is an audit fact); the
    # request id is the author's idempotency key, an opaque client string that may say anything.
    "planet.content.v1.PostEdited.post_id": PUBLIC,
    "planet.content.v1.PostEdited.creator_id": PERSONAL,
    "planet.content.v1.PostEdited.revision": PUBLIC,
    "planet.content.v1.PostEdited.title": PUBLIC,
    "planet.content.v1.PostEdited.body": PUBLIC,
    "planet.content.v1.PostEdited.hashtags": PUBLIC,
    "planet.content.v1.PostEdited.mentions": PERSONAL,
    "planet.content.v1.PostEdited.edited_at_ms": PUBLIC,
    "planet.content.v1.PostEdited.summary": PUBLIC,
    "planet.content.v1.PostEdited.cover_image_url": PUBLIC,
    "planet.content.v1.PostEdited.request_id": PRIVATE_CONTENT,
    "planet.content.v1.PostEdited.published_at_ms": PUBLIC,
    "planet.content.v1.PostEdited.kind": PUBLIC,
    "planet.content.v1.PostDeleted.post_id": PUBLIC,
    "planet.content.v1.PostDeleted.creator_id": PERSONAL,
    "planet.content.v1.PostDeleted.deleted_at_ms": PUBLIC,
    # Reports and removals (planet.content.moderation.v1, sunk; removals also copied onto the
    # unsunk author-posts and topic-posts). Removals, reasons and times are what analysts need
    # (how much is removed, for what, how fast); who reported whom is not: a reporter's id and
    # words are never stored by the sink (private_content), so no pseudonym can link a
    # reporter's reports either. The digest of (reporter, item, round) that names a report is
    # personal. Operators' notes describe a person's conduct (personal, as the social
    # service's AppealDecided.note); an appeal's text is the author's words to moderators.
    "planet.content.v1.ItemReported.report_id": PERSONAL,
    "planet.content.v1.ItemReported.item_id": PUBLIC,
    "planet.content.v1.ItemReported.kind": PUBLIC,
    "planet.content.v1.ItemReported.post_id": PUBLIC,
    "planet.content.v1.ItemReported.item_author_id": PERSONAL,
    "planet.content.v1.ItemReported.reporter_id": PRIVATE_CONTENT,
    "planet.content.v1.ItemReported.reason": PUBLIC,
    "planet.content.v1.ItemReported.detail": PRIVATE_CONTENT,
    "planet.content.v1.ItemReported.at_ms": PUBLIC,
    "planet.content.v1.ItemReported.round": PUBLIC,
    "planet.content.v1.ReportDecided.item_id": PUBLIC,
    "planet.content.v1.ReportDecided.kind": PUBLIC,
    "planet.content.v1.ReportDecided.post_id": PUBLIC,
    "planet.content.v1.ReportDecided.item_author_id": PERSONAL,
    "planet.content.v1.ReportDecided.confirmed": PUBLIC,
    "planet.content.v1.ReportDecided.operator_id": PERSONAL,
    "planet.content.v1.ReportDecided.note": PERSONAL,
    "planet.content.v1.ReportDecided.round": PUBLIC,
    "planet.content.v1.ReportDecided.reports": PUBLIC,
    "planet.content.v1.ReportDecided.at_ms": PUBLIC,
    "planet.content.v1.ReportDecided.request_id": PRIVATE_CONTENT,
    "planet.content.v1.ItemRemoved.item_id": PUBLIC,
    "planet.content.v1.ItemRemoved.kind": PUBLIC,
    "planet.content.v1.ItemRemoved.post_id": PUBLIC,
    "planet.content.v1.ItemRemoved.author_id": PERSONAL,
    "planet.content.v1.ItemRemoved.reason": PUBLIC,
    "planet.content.v1.ItemRemoved.note": PERSONAL,
    "planet.content.v1.ItemRemoved.operator_id": PERSONAL,
    "planet.content.v1.ItemRemoved.at_ms": PUBLIC,
    "planet.content.v1.ItemRemoved.moderation_version": PUBLIC,
    "planet.content.v1.RemovalAppealed.item_id": PUBLIC,
    "planet.content.v1.RemovalAppealed.kind": PUBLIC,
    "planet.content.v1.RemovalAppealed.post_id": PUBLIC,
    "planet.content.v1.RemovalAppealed.author_id": PERSONAL,
    "planet.content.v1.RemovalAppealed.text": PRIVATE_CONTENT,
    "planet.content.v1.RemovalAppealed.at_ms": PUBLIC,
    "planet.content.v1.RemovalAppealed.moderation_version": PUBLIC,
    "planet.content.v1.RemovalAppealed.request_id": PRIVATE_CONTENT,
    "planet.content.v1.AppealDecided.item_id": PUBLIC,
    "planet.content.v1.AppealDecided.kind": PUBLIC,
    "planet.content.v1.AppealDecided.post_id": PUBLIC,
    "planet.content.v1.AppealDecided.author_id": PERSONAL,
    "planet.content.v1.AppealDecided.upheld": PUBLIC,
    "planet.content.v1.AppealDecided.operator_id": PERSONAL,
    "planet.content.v1.AppealDecided.note": PERSONAL,
    "planet.content.v1.AppealDecided.at_ms": PUBLIC,
    "planet.content.v1.AppealDecided.moderation_version": PUBLIC,
    "planet.content.v1.AppealDecided.request_id": PRIVATE_CONTENT,
    "planet.content.v1.ItemRestored.item_id": PUBLIC,
    "planet.content.v1.ItemRestored.kind": PUBLIC,
    "planet.content.v1.ItemRestored.post_id": PUBLIC,
    "planet.content.v1.ItemRestored.author_id": PERSONAL,
    "planet.content.v1.ItemRestored.operator_id": PERSONAL,
    "planet.content.v1.ItemRestored.at_ms": PUBLIC,
    "planet.content.v1.ItemRestored.moderation_version": PUBLIC,
    # Drafts (planet.content.drafts.v1, never sunk): what an author has not published is
    # theirs alone; ids and times are classified too, for the walk's sake.
    "planet.content.v1.DraftSaved.draft_id": PERSONAL,
    "planet.content.v1.DraftSaved.author_id": PERSONAL,
    "planet.content.v1.DraftSaved.revision": PUBLIC,
    "planet.content.v1.DraftSaved.content": PRIVATE_CONTENT,
    "planet.content.v1.DraftSaved.at_ms": PUBLIC,
    "planet.content.v1.DraftSaved.request_id": PRIVATE_CONTENT,
    "planet.content.v1.DraftDiscarded.draft_id": PERSONAL,
    "planet.content.v1.DraftDiscarded.author_id": PERSONAL,
    "planet.content.v1.DraftDiscarded.at_ms": PUBLIC,
    "planet.content.v1.DraftPublished.draft_id": PERSONAL,
    "planet.content.v1.DraftPublished.author_id": PERSONAL,
    "planet.content.v1.DraftPublished.post_id": PUBLIC,
    "planet.content.v1.DraftPublished.at_ms": PUBLIC,
    # PostPublished.components: walked into (TradingComponent -> CoinTicker, TradeIdea).
    "planet.content.v1.CoinTicker.symbol": PUBLIC,
    "planet.content.v1.TradeIdea.pair": PUBLIC,
    "planet.content.v1.TradeIdea.side": PUBLIC,
    "planet.content.v1.TradeIdea.entry": PUBLIC,
    "planet.content.v1.TradeIdea.target": PUBLIC,
    "planet.content.v1.TradeIdea.stop": PUBLIC,
    "planet.content.v1.TradeIdea.timeframe": PUBLIC,
    # TradingComponent.trade_link; copy_trade (CopyTradeCard) has no fields.
    "planet.content.v1.TradeLink.pair": PUBLIC,
    "planet.content.v1.TradeLink.side": PUBLIC,
    # Arenas: operator-curated topic sets, shown to every user; the operator is a person.
    "planet.content.v1.ArenaDefined.arena_id": PUBLIC,
    "planet.content.v1.ArenaDefined.name": PUBLIC,
    "planet.content.v1.ArenaDefined.topics": PUBLIC,
    "planet.content.v1.ArenaDefined.operator_id": PERSONAL,
    "planet.content.v1.ArenaDefined.at_ms": PUBLIC,
    # A copy of a comment, like or share under each topic of the post (the topic-posts
    # topic, not sunk); the engaging user and the post's author are persons.
    "planet.content.v1.TopicEngagement.topic": PUBLIC,
    "planet.content.v1.TopicEngagement.post_id": PUBLIC,
    "planet.content.v1.TopicEngagement.post_author_id": PERSONAL,
    "planet.content.v1.TopicEngagement.user_id": PERSONAL,
    "planet.content.v1.TopicEngagement.kind": PUBLIC,
    "planet.content.v1.TopicEngagement.at_ms": PUBLIC,
    "planet.content.v1.TopicEngagement.source_event_id": PUBLIC,
    # The exchange's instrument list: market data, public on the exchange itself.
    "planet.exchange.v2.InstrumentListed.symbol": PUBLIC,
    "planet.exchange.v2.InstrumentListed.base": PUBLIC,
    "planet.exchange.v2.InstrumentListed.quote": PUBLIC,
    "planet.exchange.v2.InstrumentListed.status": PUBLIC,
    "planet.exchange.v2.InstrumentListed.last_price": PUBLIC,
    "planet.exchange.v2.InstrumentListed.at_ms": PUBLIC,
    # Interactions: comments and quotes are published for everyone to read (public text);
    # who commented, liked or shared, and whose item it was, are people. Comment and share
    # ids embed only the post's digest and a digest of their own: public in every thread URL.
    "planet.content.v1.CommentPosted.comment_id": PUBLIC,
    "planet.content.v1.CommentPosted.post_id": PUBLIC,
    "planet.content.v1.CommentPosted.post_author_id": PERSONAL,
    "planet.content.v1.CommentPosted.author_id": PERSONAL,
    "planet.content.v1.CommentPosted.parent_comment_id": PUBLIC,
    "planet.content.v1.CommentPosted.text": PUBLIC,
    "planet.content.v1.CommentPosted.text_length": PUBLIC,
    "planet.content.v1.CommentPosted.at_ms": PUBLIC,
    "planet.content.v1.CommentPosted.parent_author_id": PERSONAL,
    "planet.content.v1.CommentPosted.depth": PUBLIC,
    "planet.content.v1.CommentEdited.comment_id": PUBLIC,
    "planet.content.v1.CommentEdited.post_id": PUBLIC,
    "planet.content.v1.CommentEdited.author_id": PERSONAL,
    "planet.content.v1.CommentEdited.text": PUBLIC,
    "planet.content.v1.CommentEdited.text_length": PUBLIC,
    "planet.content.v1.CommentEdited.at_ms": PUBLIC,
    "planet.content.v1.CommentEdited.revision": PUBLIC,
    "planet.content.v1.CommentDeleted.comment_id": PUBLIC,
    "planet.content.v1.CommentDeleted.post_id": PUBLIC,
    "planet.content.v1.CommentDeleted.author_id": PERSONAL,
    "planet.content.v1.CommentDeleted.at_ms": PUBLIC,
    "planet.content.v1.ItemLiked.item_id": PUBLIC,
    "planet.content.v1.ItemLiked.item_author_id": PERSONAL,
    "planet.content.v1.ItemLiked.user_id": PERSONAL,
    "planet.content.v1.ItemLiked.at_ms": PUBLIC,
    "planet.content.v1.ItemLiked.post_id": PUBLIC,
    "planet.content.v1.ItemUnliked.item_id": PUBLIC,
    "planet.content.v1.ItemUnliked.item_author_id": PERSONAL,
    "planet.content.v1.ItemUnliked.user_id": PERSONAL,
    "planet.content.v1.ItemUnliked.at_ms": PUBLIC,
    "planet.content.v1.ItemUnliked.post_id": PUBLIC,
    "planet.content.v1.ItemShared.share_id": PUBLIC,
    "planet.content.v1.ItemShared.item_id": PUBLIC,
    "planet.content.v1.ItemShared.item_author_id": PERSONAL,
    "planet.content.v1.ItemShared.user_id": PERSONAL,
    "planet.content.v1.ItemShared.quote": PUBLIC,
    "planet.content.v1.ItemShared.at_ms": PUBLIC,
    "planet.content.v1.ItemShared.post_id": PUBLIC,
    "planet.content.v1.ItemShared.quote_length": PUBLIC,
    # Telemetry: one consumer's batch. Batch and event ids are scoped by the consumer id
    # (gateway/telemetry.py: "<len>:<consumer>/<client id>"), so they embed it.
    "planet.engagement.v1.EngagementBatch.batch_id": PERSONAL,
    "planet.engagement.v1.EngagementBatch.consumer_id": PERSONAL,
    "planet.engagement.v1.EngagementBatch.event_ids": PERSONAL,
    "planet.engagement.v1.EngagementBatch.item_ids": PUBLIC,
    "planet.engagement.v1.EngagementBatch.creator_ids": PERSONAL,
    "planet.engagement.v1.EngagementBatch.occurred_at_ms": PUBLIC,
    "planet.engagement.v1.EngagementBatch.kinds": PUBLIC,
    "planet.engagement.v1.EngagementBatch.dwell_seconds": PUBLIC,
    "planet.engagement.v1.EngagementBatch.text_lengths": PUBLIC,
    # Exchange facts. Fee and fill ids are the exchange's ids of one person's transactions:
    # anyone with the exchange's records turns them into that person.
    "planet.exchange.v1.KycVerified.user_id": PERSONAL,
    "planet.exchange.v1.KycVerified.verified_at_ms": PUBLIC,
    "planet.exchange.v1.TradeFeeCharged.fee_id": PERSONAL,
    "planet.exchange.v1.TradeFeeCharged.user_id": PERSONAL,
    "planet.exchange.v1.TradeFeeCharged.amount_minor": PUBLIC,
    "planet.exchange.v1.TradeFeeCharged.currency": PUBLIC,
    "planet.exchange.v1.TradeFeeCharged.charged_at_ms": PUBLIC,
    "planet.exchange.v1.OrderFilled.fill_id": PERSONAL,
    "planet.exchange.v1.OrderFilled.user_id": PERSONAL,
    "planet.exchange.v1.OrderFilled.pair": PUBLIC,
    "planet.exchange.v1.OrderFilled.side": PUBLIC,
    "planet.exchange.v1.OrderFilled.price": PUBLIC,
    "planet.exchange.v1.OrderFilled.quantity": PUBLIC,
    "planet.exchange.v1.OrderFilled.fee_minor": PUBLIC,
    "planet.exchange.v1.OrderFilled.filled_at_ms": PUBLIC,
    # Exchange facts, schema 2. Amounts and assets are public as in v1: the person is the user
    # id (and the fee or fill id), which the sink pseudonymises; an amount alone points at no
    # one. Money fields (fee, quote_value, fee_quote_value) are walked into (planet.exchange.v2
    # .Money), so a new Money field anywhere is classified by the same two rows.
    "planet.exchange.v2.Money.amount_minor": PUBLIC,
    "planet.exchange.v2.Money.asset": PUBLIC,
    "planet.exchange.v2.TradeFeeCharged.fee_id": PERSONAL,
    "planet.exchange.v2.TradeFeeCharged.user_id": PERSONAL,
    "planet.exchange.v2.TradeFeeCharged.charged_at_ms": PUBLIC,
    "planet.exchange.v2.OrderFilled.fill_id": PERSONAL,
    "planet.exchange.v2.OrderFilled.user_id": PERSONAL,
    "planet.exchange.v2.OrderFilled.base_asset": PUBLIC,
    "planet.exchange.v2.OrderFilled.quote_asset": PUBLIC,
    "planet.exchange.v2.OrderFilled.side": PUBLIC,
    "planet.exchange.v2.OrderFilled.price": PUBLIC,
    "planet.exchange.v2.OrderFilled.quantity": PUBLIC,
    "planet.exchange.v2.OrderFilled.filled_at_ms": PUBLIC,
    # The aggregator's outputs. Commit ids name the aggregator group and offsets only.
    "planet.incentive.v1.EngagementDeltas.commit_id": PUBLIC,
    "planet.incentive.v1.EngagementDeltas.creator_ids": PERSONAL,
    "planet.incentive.v1.EngagementDeltas.weeks": PUBLIC,
    "planet.incentive.v1.EngagementDeltas.consumer_ids": PERSONAL,
    "planet.incentive.v1.EngagementDeltas.views": PUBLIC,
    "planet.incentive.v1.EngagementDeltas.dwell_seconds": PUBLIC,
    "planet.incentive.v1.EngagementDeltas.interactions": PUBLIC,
    # The weekly pool (planet.incentive.v1 facts and weekly_pool, planet.exchange.v2 payouts).
    # Amounts paid to a creator are public like the settled root; a consumer's fees are not.
    "planet.incentive.v1.FactRows.rows_id": PUBLIC,
    "planet.incentive.v1.FactRows.consumer_id": PERSONAL,
    "planet.incentive.v1.FactRows.event_ids": PERSONAL,
    "planet.incentive.v1.FactRows.item_ids": PUBLIC,
    "planet.incentive.v1.FactRows.creator_ids": PERSONAL,
    "planet.incentive.v1.FactRows.occurred_at_ms": PUBLIC,
    "planet.incentive.v1.FactRows.kinds": PUBLIC,
    "planet.incentive.v1.FactRows.dwell_seconds": PUBLIC,
    "planet.incentive.v1.FactRows.text_lengths": PUBLIC,
    "planet.incentive.v1.FactRows.consumer_ids": PERSONAL,
    # Digests of the event ids (which name their consumer): as personal as the ids.
    "planet.incentive.v1.FactRows.event_keys": PERSONAL,
    "planet.incentive.v1.FactRows.event_checks": PERSONAL,
    "planet.incentive.v1.Period.from_ms": PUBLIC,
    "planet.incentive.v1.Period.until_ms": PUBLIC,
    "planet.incentive.v1.UserStatus.user_id": PERSONAL,
    "planet.incentive.v1.UserStatus.kyc_verified_at_ms": PERSONAL,
    "planet.incentive.v1.UserStatus.fee_ids": PERSONAL,
    "planet.incentive.v1.UserStatus.updated_at_ms": PUBLIC,
    "planet.incentive.v1.DayFees.day": PUBLIC,
    "planet.incentive.v1.DayFees.quote_minor": PERSONAL,
    "planet.incentive.v1.DayFees.quote_asset": PUBLIC,
    "planet.incentive.v1.ItemStatus.item_id": PUBLIC,
    "planet.incentive.v1.ItemStatus.creator_id": PERSONAL,
    "planet.incentive.v1.ItemStatus.item_kind": PUBLIC,
    "planet.incentive.v1.ItemStatus.published_at_ms": PUBLIC,
    "planet.incentive.v1.ItemStatus.updated_at_ms": PUBLIC,
    "planet.incentive.v1.PoolFunded.funding_id": PUBLIC,
    "planet.incentive.v1.PoolFunded.week": PUBLIC,
    "planet.incentive.v1.PoolFunded.amount_minor": PUBLIC,
    "planet.incentive.v1.PoolFunded.asset": PUBLIC,
    "planet.incentive.v1.PoolFunded.operator_id": PERSONAL,
    "planet.incentive.v1.PoolFunded.at_ms": PUBLIC,
    "planet.incentive.v1.PolicyPublished.version": PUBLIC,
    "planet.incentive.v1.PolicyPublished.effective_week": PUBLIC,
    "planet.incentive.v1.PolicyPublished.policy_json": PUBLIC,
    "planet.incentive.v1.PolicyPublished.policy_hash": PUBLIC,
    "planet.incentive.v1.PolicyPublished.operator_id": PERSONAL,
    "planet.incentive.v1.PolicyPublished.at_ms": PUBLIC,
    "planet.incentive.v1.WeekCloseRequested.week": PUBLIC,
    "planet.incentive.v1.WeekCloseRequested.operator_id": PERSONAL,
    "planet.incentive.v1.WeekCloseRequested.reason": PUBLIC,
    "planet.incentive.v1.WeekCloseRequested.at_ms": PUBLIC,
    "planet.incentive.v1.WeekCloseRequested.request_id": PUBLIC,
    "planet.incentive.v1.HeldDecided.week": PUBLIC,
    "planet.incentive.v1.HeldDecided.creator_id": PERSONAL,
    "planet.incentive.v1.HeldDecided.decision": PUBLIC,
    "planet.incentive.v1.HeldDecided.amount_minor": PUBLIC,
    "planet.incentive.v1.HeldDecided.asset": PUBLIC,
    "planet.incentive.v1.HeldDecided.operator_id": PERSONAL,
    "planet.incentive.v1.HeldDecided.reason": PUBLIC,
    "planet.incentive.v1.HeldDecided.at_ms": PUBLIC,
    "planet.incentive.v1.HeldDecided.decision_id": PUBLIC,
    "planet.incentive.v1.TopicCut.topic": PUBLIC,
    "planet.incentive.v1.TopicCut.end_offsets": PUBLIC,
    "planet.incentive.v1.WeekClosed.week": PUBLIC,
    "planet.incentive.v1.WeekClosed.closed_at_ms": PUBLIC,
    "planet.incentive.v1.WeekClosed.cause": PUBLIC,
    "planet.incentive.v1.WeekSettled.week": PUBLIC,
    "planet.incentive.v1.WeekSettled.policy_version": PUBLIC,
    "planet.incentive.v1.WeekSettled.policy_hash": PUBLIC,
    "planet.incentive.v1.WeekSettled.pool_minor": PUBLIC,
    "planet.incentive.v1.WeekSettled.asset": PUBLIC,
    "planet.incentive.v1.WeekSettled.rollover_in_minor": PUBLIC,
    "planet.incentive.v1.WeekSettled.payable_minor": PUBLIC,
    "planet.incentive.v1.WeekSettled.rollover_out_minor": PUBLIC,
    "planet.incentive.v1.WeekSettled.held_minor": PUBLIC,
    "planet.incentive.v1.WeekSettled.unallocated_minor": PUBLIC,
    "planet.incentive.v1.WeekSettled.merkle_root": PUBLIC,
    "planet.incentive.v1.WeekSettled.creators_paid": PUBLIC,
    "planet.incentive.v1.WeekSettled.creators": PUBLIC,
    "planet.incentive.v1.WeekSettled.result_sha256": PUBLIC,
    "planet.incentive.v1.WeekSettled.settled_at_ms": PUBLIC,
    "planet.incentive.v1.WeekSettled.facts_counted": PUBLIC,
    "planet.incentive.v1.WeekSettled.facts_late": PUBLIC,
    "planet.incentive.v1.FactsLate.week": PUBLIC,
    "planet.incentive.v1.FactsLate.topic": PUBLIC,
    "planet.incentive.v1.FactsLate.partition": PUBLIC,
    "planet.incentive.v1.FactsLate.offset": PUBLIC,
    "planet.incentive.v1.FactsLate.rows": PUBLIC,
    "planet.incentive.v1.FactsLate.reason": PUBLIC,
    "planet.incentive.v1.FactsLate.event_ids": PERSONAL,
    "planet.incentive.v1.CreatorWeekResult.week": PUBLIC,
    "planet.incentive.v1.CreatorWeekResult.creator_id": PERSONAL,
    "planet.incentive.v1.CreatorWeekResult.creator_int_id": PERSONAL,
    "planet.incentive.v1.CreatorWeekResult.status": PUBLIC,
    "planet.incentive.v1.CreatorWeekResult.score": PUBLIC,
    "planet.incentive.v1.CreatorWeekResult.allocated_minor": PUBLIC,
    "planet.incentive.v1.CreatorWeekResult.rollover_in_minor": PUBLIC,
    "planet.incentive.v1.CreatorWeekResult.payable_minor": PUBLIC,
    "planet.incentive.v1.CreatorWeekResult.rollover_out_minor": PUBLIC,
    "planet.incentive.v1.CreatorWeekResult.held_minor": PUBLIC,
    "planet.incentive.v1.CreatorWeekResult.asset": PUBLIC,
    "planet.incentive.v1.CreatorWeekResult.merkle_root": PUBLIC,
    "planet.incentive.v1.CreatorWeekResult.policy_version": PUBLIC,
    "planet.incentive.v1.CreatorWeekResult.policy_hash": PUBLIC,
    "planet.incentive.v1.CreatorWeekResult.part": PUBLIC,
    "planet.incentive.v1.CreatorWeekResult.parts": PUBLIC,
    "planet.incentive.v1.ItemAmount.item_id": PUBLIC,
    "planet.incentive.v1.ItemAmount.item_int_id": PUBLIC,
    "planet.incentive.v1.ItemAmount.amount_minor": PUBLIC,
    "planet.incentive.v1.ItemAmount.dwell_minor": PUBLIC,
    "planet.incentive.v1.ItemAmount.interaction_minor": PUBLIC,
    "planet.incentive.v1.ItemAmount.dwell_seconds": PUBLIC,
    "planet.incentive.v1.ItemAmount.interaction_milli_points": PUBLIC,
    "planet.incentive.v1.TierAmount.tier": PUBLIC,
    "planet.incentive.v1.TierAmount.amount_minor": PUBLIC,
    "planet.incentive.v1.TierAmount.consumers": PUBLIC,
    "planet.incentive.v1.DiscountLine.reason": PUBLIC,
    "planet.incentive.v1.DiscountLine.item_id": PUBLIC,
    "planet.incentive.v1.DiscountLine.events": PUBLIC,
    "planet.incentive.v1.DiscountLine.quantity": PUBLIC,
    "planet.incentive.v1.ProofStep.sibling": PUBLIC,
    "planet.incentive.v1.ProofStep.sibling_is_left": PUBLIC,
    "planet.incentive.v1.CreatorEstimate.week": PUBLIC,
    "planet.incentive.v1.CreatorEstimate.creator_id": PERSONAL,
    "planet.incentive.v1.CreatorEstimate.as_of_ms": PUBLIC,
    "planet.incentive.v1.CreatorEstimate.estimated_minor": PUBLIC,
    "planet.incentive.v1.CreatorEstimate.score": PUBLIC,
    "planet.incentive.v1.CreatorEstimate.asset": PUBLIC,
    "planet.incentive.v1.CreatorEstimate.pool_minor": PUBLIC,
    "planet.incentive.v1.CreatorEstimate.policy_version": PUBLIC,
    "planet.incentive.v1.CreatorEstimate.policy_hash": PUBLIC,
    "planet.incentive.v1.CreatorEstimate.items_total": PUBLIC,
    "planet.incentive.v1.PayoutStateChanged.payout_id": PERSONAL,
    "planet.incentive.v1.PayoutStateChanged.week": PUBLIC,
    "planet.incentive.v1.PayoutStateChanged.creator_id": PERSONAL,
    "planet.incentive.v1.PayoutStateChanged.amount_minor": PUBLIC,
    "planet.incentive.v1.PayoutStateChanged.asset": PUBLIC,
    "planet.incentive.v1.PayoutStateChanged.state": PUBLIC,
    "planet.incentive.v1.PayoutStateChanged.detail": PUBLIC,
    "planet.incentive.v1.PayoutStateChanged.at_ms": PUBLIC,
    "planet.exchange.v2.PayoutInstructed.payout_id": PERSONAL,
    "planet.exchange.v2.PayoutInstructed.creator_id": PERSONAL,
    "planet.exchange.v2.PayoutInstructed.week": PUBLIC,
    "planet.exchange.v2.PayoutInstructed.amount_minor": PUBLIC,
    "planet.exchange.v2.PayoutInstructed.asset": PUBLIC,
    "planet.exchange.v2.PayoutInstructed.at_ms": PUBLIC,
    "planet.exchange.v2.PayoutConfirmed.payout_id": PERSONAL,
    "planet.exchange.v2.PayoutConfirmed.creator_id": PERSONAL,
    "planet.exchange.v2.PayoutConfirmed.amount_minor": PUBLIC,
    "planet.exchange.v2.PayoutConfirmed.asset": PUBLIC,
    "planet.exchange.v2.PayoutConfirmed.exchange_reference": PERSONAL,
    "planet.exchange.v2.PayoutConfirmed.at_ms": PUBLIC,
    "planet.exchange.v2.PayoutRefused.payout_id": PERSONAL,
    "planet.exchange.v2.PayoutRefused.creator_id": PERSONAL,
    "planet.exchange.v2.PayoutRefused.reason": PUBLIC,
    "planet.exchange.v2.PayoutRefused.at_ms": PUBLIC,
    "planet.incentive.v1.WeekActivity.views": PUBLIC,
    "planet.incentive.v1.WeekActivity.unique_viewers": PUBLIC,
    "planet.incentive.v1.WeekActivity.dwell_seconds": PUBLIC,
    "planet.incentive.v1.WeekActivity.followers_gained": PUBLIC,
    "planet.incentive.v1.ItemActivity.item_id": PUBLIC,
    "planet.incentive.v1.ItemActivity.views": PUBLIC,
    "planet.incentive.v1.ItemActivity.unique_viewers": PUBLIC,
    "planet.incentive.v1.ItemActivity.dwell_seconds": PUBLIC,
    "planet.incentive.v1.DedupCheckpoint.partition": PUBLIC,
    "planet.incentive.v1.DedupCheckpoint.last_offset": PUBLIC,
    "planet.incentive.v1.DedupCheckpoint.duplicates_dropped": PUBLIC,
    "planet.incentive.v1.DedupCheckpoint.late_dropped": PUBLIC,
    "planet.incentive.v1.DedupCheckpoint.invalid_dropped": PUBLIC,
    # DedupCheckpoint.accepted: walked into (WeekEventIds); its ids are consumer-scoped.
    "planet.incentive.v1.WeekEventIds.week": PUBLIC,
    "planet.incentive.v1.WeekEventIds.event_ids": PERSONAL,
    # The analytics query audit (never sunk): who asked (personal) and what they asked (the
    # SQL may quote personal values), with the service's own bookkeeping.
    "planet.analytics.v1.QueryAccepted.query_id": PUBLIC,
    "planet.analytics.v1.QueryAccepted.user_id": PERSONAL,
    "planet.analytics.v1.QueryAccepted.roles": PERSONAL,
    "planet.analytics.v1.QueryAccepted.service": PUBLIC,
    "planet.analytics.v1.QueryAccepted.audience": PUBLIC,
    "planet.analytics.v1.QueryAccepted.canonical_sql": PERSONAL,
    "planet.analytics.v1.QueryAccepted.accepted_at_ms": PUBLIC,
    "planet.analytics.v1.QueryFinished.query_id": PUBLIC,
    "planet.analytics.v1.QueryFinished.user_id": PERSONAL,
    "planet.analytics.v1.QueryFinished.outcome": PUBLIC,
    "planet.analytics.v1.QueryFinished.row_count": PUBLIC,
    "planet.analytics.v1.QueryFinished.error": PERSONAL,
    "planet.analytics.v1.QueryFinished.finished_at_ms": PUBLIC,
    "planet.analytics.v1.QueryFinished.elapsed_ms": PUBLIC,
    # Creator identities (planet.social.v1). A creator's public persona (handle, display name,
    # bio, avatar, links, topics) is published on their home page for everyone: public. Who
    # the account is (user ids) and who acted on it (operator ids) are people. Sanction and
    # moderation reasons describe a person's conduct: personal (operators see them, analysts
    # only pseudonymised). Appeal text is the account holder's own words to moderators:
    # private content, never sunk.
    "planet.social.v1.Profile.display_name": PUBLIC,
    "planet.social.v1.Profile.bio": PUBLIC,
    "planet.social.v1.Profile.avatar_url": PUBLIC,
    "planet.social.v1.Profile.links": PUBLIC,
    "planet.social.v1.Profile.topics": PUBLIC,
    "planet.social.v1.CreatorIdentityOpened.user_id": PERSONAL,
    "planet.social.v1.CreatorIdentityOpened.handle": PUBLIC,
    "planet.social.v1.CreatorIdentityOpened.opened_at_ms": PUBLIC,
    "planet.social.v1.HandleChanged.user_id": PERSONAL,
    "planet.social.v1.HandleChanged.old_handle": PUBLIC,
    "planet.social.v1.HandleChanged.new_handle": PUBLIC,
    "planet.social.v1.HandleChanged.old_reserved_until_ms": PUBLIC,
    "planet.social.v1.HandleChanged.changed_at_ms": PUBLIC,
    "planet.social.v1.ProfileUpdated.user_id": PERSONAL,
    "planet.social.v1.ProfileUpdated.updated_at_ms": PUBLIC,
    "planet.social.v1.IdentitySuspended.user_id": PERSONAL,
    "planet.social.v1.IdentitySuspended.reason": PERSONAL,
    "planet.social.v1.IdentitySuspended.operator_id": PERSONAL,
    "planet.social.v1.IdentitySuspended.at_ms": PUBLIC,
    "planet.social.v1.IdentityReinstated.user_id": PERSONAL,
    "planet.social.v1.IdentityReinstated.reason": PERSONAL,
    "planet.social.v1.IdentityReinstated.operator_id": PERSONAL,
    "planet.social.v1.IdentityReinstated.at_ms": PUBLIC,
    "planet.social.v1.IdentityClosed.user_id": PERSONAL,
    "planet.social.v1.IdentityClosed.reason": PERSONAL,
    "planet.social.v1.IdentityClosed.operator_id": PERSONAL,
    "planet.social.v1.IdentityClosed.at_ms": PUBLIC,
    "planet.social.v1.IdentityClosed.handle_reserved_until_ms": PUBLIC,
    "planet.social.v1.AccountSanctioned.user_id": PERSONAL,
    "planet.social.v1.AccountSanctioned.sanction_id": PERSONAL,
    "planet.social.v1.AccountSanctioned.reason": PERSONAL,
    "planet.social.v1.AccountSanctioned.until_ms": PUBLIC,
    "planet.social.v1.AccountSanctioned.operator_id": PERSONAL,
    "planet.social.v1.AccountSanctioned.at_ms": PUBLIC,
    "planet.social.v1.SanctionAppealed.user_id": PERSONAL,
    "planet.social.v1.SanctionAppealed.sanction_id": PERSONAL,
    "planet.social.v1.SanctionAppealed.text": PRIVATE_CONTENT,
    "planet.social.v1.SanctionAppealed.at_ms": PUBLIC,
    "planet.social.v1.SanctionLifted.user_id": PERSONAL,
    "planet.social.v1.SanctionLifted.sanction_id": PERSONAL,
    "planet.social.v1.SanctionLifted.reason": PERSONAL,
    "planet.social.v1.SanctionLifted.operator_id": PERSONAL,
    "planet.social.v1.SanctionLifted.at_ms": PUBLIC,
    "planet.social.v1.AppealDecided.user_id": PERSONAL,
    "planet.social.v1.AppealDecided.sanction_id": PERSONAL,
    "planet.social.v1.AppealDecided.granted": PUBLIC,
    "planet.social.v1.AppealDecided.note": PERSONAL,
    "planet.social.v1.AppealDecided.operator_id": PERSONAL,
    "planet.social.v1.AppealDecided.at_ms": PUBLIC,
    "planet.social.v1.TrackRecordVisibilitySet.user_id": PERSONAL,
    "planet.social.v1.TrackRecordVisibilitySet.hidden": PUBLIC,
    "planet.social.v1.TrackRecordVisibilitySet.at_ms": PUBLIC,
    "planet.social.v1.HandleClaimed.handle": PUBLIC,
    "planet.social.v1.HandleClaimed.user_id": PERSONAL,
    "planet.social.v1.HandleClaimed.at_ms": PUBLIC,
    "planet.social.v1.HandleReleased.handle": PUBLIC,
    "planet.social.v1.HandleReleased.user_id": PERSONAL,
    "planet.social.v1.HandleReleased.reserved_until_ms": PUBLIC,
    "planet.social.v1.HandleReleased.at_ms": PUBLIC,
    # The social graph (planet.social.v1 graph.proto). Follows are public on every home page,
    # but who follows whom is about people: ids personal (pseudonymised for analysts), so
    # analysts count follows without learning who. A bell is one follower's setting: the same.
    "planet.social.v1.Followed.follower_id": PERSONAL,
    "planet.social.v1.Followed.followee_id": PERSONAL,
    "planet.social.v1.Followed.at_ms": PUBLIC,
    "planet.social.v1.Unfollowed.follower_id": PERSONAL,
    "planet.social.v1.Unfollowed.followee_id": PERSONAL,
    "planet.social.v1.Unfollowed.at_ms": PUBLIC,
    "planet.social.v1.Unfollowed.cause": PUBLIC,
    "planet.social.v1.BellSet.follower_id": PERSONAL,
    "planet.social.v1.BellSet.creator_id": PERSONAL,
    "planet.social.v1.BellSet.on": PUBLIC,
    "planet.social.v1.BellSet.at_ms": PUBLIC,
    # Blocks and mutes are private content: who blocked or muted whom is the user's own
    # (their topics are never sunk either; the ids are the content).
    "planet.social.v1.Blocked.blocker_id": PRIVATE_CONTENT,
    "planet.social.v1.Blocked.blocked_id": PRIVATE_CONTENT,
    "planet.social.v1.Blocked.at_ms": PUBLIC,
    "planet.social.v1.Unblocked.blocker_id": PRIVATE_CONTENT,
    "planet.social.v1.Unblocked.blocked_id": PRIVATE_CONTENT,
    "planet.social.v1.Unblocked.at_ms": PUBLIC,
    "planet.social.v1.Muted.muter_id": PRIVATE_CONTENT,
    "planet.social.v1.Muted.muted_id": PRIVATE_CONTENT,
    "planet.social.v1.Muted.at_ms": PUBLIC,
    "planet.social.v1.Unmuted.muter_id": PRIVATE_CONTENT,
    "planet.social.v1.Unmuted.muted_id": PRIVATE_CONTENT,
    "planet.social.v1.Unmuted.at_ms": PUBLIC,
    # Notifications (never sunk: a user's inbox is theirs alone). The recipient and the id
    # derived from the cause point at a person; who acted and on what may be private (an
    # invite to a private group, a moderation case), so they are private content.
    "planet.social.v1.NotificationCreated.recipient_id": PERSONAL,
    "planet.social.v1.NotificationCreated.notification_id": PERSONAL,
    "planet.social.v1.NotificationCreated.kind": PUBLIC,
    "planet.social.v1.NotificationCreated.actor_id": PRIVATE_CONTENT,
    "planet.social.v1.NotificationCreated.subject_id": PRIVATE_CONTENT,
    "planet.social.v1.NotificationCreated.at_ms": PUBLIC,
    "planet.social.v1.NotificationCreated.position": PUBLIC,
    "planet.social.v1.NotificationsRead.recipient_id": PERSONAL,
    "planet.social.v1.NotificationsRead.up_to_position": PUBLIC,
    "planet.social.v1.NotificationsRead.at_ms": PUBLIC,
    # Group chats (planet.groups.v1, issue 15; the topics are never sunk). A group's facts
    # are its members' private content: who is in a group, who wrote, reacted, reported or
    # moderated whom, every text, name, note and reason, the filter word lists and the
    # attachments (listed whole: a TradingComponent inside a private message is as private as
    # its text). Only shapes are public: the opaque group id, positions, times, counts, enums
    # and flags. An invite link's code is a credential (whoever holds it may join): secret.
    "planet.groups.v1.MemberJoined.group_id": PUBLIC,
    "planet.groups.v1.MemberJoined.seq": PUBLIC,
    "planet.groups.v1.MemberJoined.at_ms": PUBLIC,
    "planet.groups.v1.MemberJoined.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.MemberJoined.user_id": PRIVATE_CONTENT,
    "planet.groups.v1.MemberJoined.how": PUBLIC,
    "planet.groups.v1.MemberJoined.link_id": SECRET,
    "planet.groups.v1.MemberJoined.role": PUBLIC,
    "planet.groups.v1.MemberRoleChanged.group_id": PUBLIC,
    "planet.groups.v1.MemberRoleChanged.seq": PUBLIC,
    "planet.groups.v1.MemberRoleChanged.at_ms": PUBLIC,
    "planet.groups.v1.MemberRoleChanged.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.MemberRoleChanged.user_id": PRIVATE_CONTENT,
    "planet.groups.v1.MemberRoleChanged.role": PUBLIC,
    "planet.groups.v1.MemberRoleChanged.rights": PUBLIC,
    "planet.groups.v1.MemberRoleChanged.reason": PRIVATE_CONTENT,
    "planet.groups.v1.MemberMuted.group_id": PUBLIC,
    "planet.groups.v1.MemberMuted.seq": PUBLIC,
    "planet.groups.v1.MemberMuted.at_ms": PUBLIC,
    "planet.groups.v1.MemberMuted.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.MemberMuted.user_id": PRIVATE_CONTENT,
    "planet.groups.v1.MemberMuted.until_ms": PUBLIC,
    "planet.groups.v1.MemberMuted.reason": PRIVATE_CONTENT,
    "planet.groups.v1.MemberUnmuted.group_id": PUBLIC,
    "planet.groups.v1.MemberUnmuted.seq": PUBLIC,
    "planet.groups.v1.MemberUnmuted.at_ms": PUBLIC,
    "planet.groups.v1.MemberUnmuted.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.MemberUnmuted.user_id": PRIVATE_CONTENT,
    "planet.groups.v1.MemberUnmuted.reason": PRIVATE_CONTENT,
    "planet.groups.v1.MemberKicked.group_id": PUBLIC,
    "planet.groups.v1.MemberKicked.seq": PUBLIC,
    "planet.groups.v1.MemberKicked.at_ms": PUBLIC,
    "planet.groups.v1.MemberKicked.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.MemberKicked.user_id": PRIVATE_CONTENT,
    "planet.groups.v1.MemberKicked.reason": PRIVATE_CONTENT,
    "planet.groups.v1.MemberBanned.group_id": PUBLIC,
    "planet.groups.v1.MemberBanned.seq": PUBLIC,
    "planet.groups.v1.MemberBanned.at_ms": PUBLIC,
    "planet.groups.v1.MemberBanned.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.MemberBanned.user_id": PRIVATE_CONTENT,
    "planet.groups.v1.MemberBanned.reason": PRIVATE_CONTENT,
    "planet.groups.v1.MemberBanned.was_member": PUBLIC,
    "planet.groups.v1.MemberUnbanned.group_id": PUBLIC,
    "planet.groups.v1.MemberUnbanned.seq": PUBLIC,
    "planet.groups.v1.MemberUnbanned.at_ms": PUBLIC,
    "planet.groups.v1.MemberUnbanned.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.MemberUnbanned.user_id": PRIVATE_CONTENT,
    "planet.groups.v1.MemberUnbanned.reason": PRIVATE_CONTENT,
    "planet.groups.v1.GroupCreated.group_id": PUBLIC,
    "planet.groups.v1.GroupCreated.seq": PUBLIC,
    "planet.groups.v1.GroupCreated.at_ms": PUBLIC,
    "planet.groups.v1.GroupCreated.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.GroupProfile.name": PRIVATE_CONTENT,
    "planet.groups.v1.GroupProfile.description": PRIVATE_CONTENT,
    "planet.groups.v1.GroupProfile.avatar_url": PRIVATE_CONTENT,
    "planet.groups.v1.GroupProfile.rules": PRIVATE_CONTENT,
    "planet.groups.v1.GroupProfile.topics": PRIVATE_CONTENT,
    "planet.groups.v1.GroupProfile.visibility": PUBLIC,
    "planet.groups.v1.GroupProfile.join_mode": PUBLIC,
    "planet.groups.v1.GroupProfile.member_limit": PUBLIC,
    "planet.groups.v1.GroupInfoChanged.group_id": PUBLIC,
    "planet.groups.v1.GroupInfoChanged.seq": PUBLIC,
    "planet.groups.v1.GroupInfoChanged.at_ms": PUBLIC,
    "planet.groups.v1.GroupInfoChanged.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.SlowModeSet.group_id": PUBLIC,
    "planet.groups.v1.SlowModeSet.seq": PUBLIC,
    "planet.groups.v1.SlowModeSet.at_ms": PUBLIC,
    "planet.groups.v1.SlowModeSet.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.SlowModeSet.seconds": PUBLIC,
    "planet.groups.v1.SlowModeSet.reason": PRIVATE_CONTENT,
    "planet.groups.v1.FilterRulesSet.group_id": PUBLIC,
    "planet.groups.v1.FilterRulesSet.seq": PUBLIC,
    "planet.groups.v1.FilterRulesSet.at_ms": PUBLIC,
    "planet.groups.v1.FilterRulesSet.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.FilterRulesSet.reason": PRIVATE_CONTENT,
    "planet.groups.v1.FilterRule.kind": PUBLIC,
    "planet.groups.v1.FilterRule.pattern": PRIVATE_CONTENT,
    "planet.groups.v1.FilterRule.action": PUBLIC,
    "planet.groups.v1.MessagePinned.group_id": PUBLIC,
    "planet.groups.v1.MessagePinned.seq": PUBLIC,
    "planet.groups.v1.MessagePinned.at_ms": PUBLIC,
    "planet.groups.v1.MessagePinned.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.MessagePinned.message_seq": PUBLIC,
    "planet.groups.v1.MessageUnpinned.group_id": PUBLIC,
    "planet.groups.v1.MessageUnpinned.seq": PUBLIC,
    "planet.groups.v1.MessageUnpinned.at_ms": PUBLIC,
    "planet.groups.v1.MessageUnpinned.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.MessageUnpinned.message_seq": PUBLIC,
    "planet.groups.v1.MemberReported.group_id": PUBLIC,
    "planet.groups.v1.MemberReported.seq": PUBLIC,
    "planet.groups.v1.MemberReported.at_ms": PUBLIC,
    "planet.groups.v1.MemberReported.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.MemberReported.user_id": PRIVATE_CONTENT,
    "planet.groups.v1.MemberReported.message_seq": PUBLIC,
    "planet.groups.v1.MemberReported.reason": PUBLIC,
    "planet.groups.v1.MemberReported.detail": PRIVATE_CONTENT,
    "planet.groups.v1.MemberReported.to_operators": PUBLIC,
    "planet.groups.v1.GroupClosed.group_id": PUBLIC,
    "planet.groups.v1.GroupClosed.seq": PUBLIC,
    "planet.groups.v1.GroupClosed.at_ms": PUBLIC,
    "planet.groups.v1.GroupClosed.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.GroupClosed.reason": PUBLIC,
    "planet.groups.v1.GroupClosed.note": PRIVATE_CONTENT,
    "planet.groups.v1.GroupCloseAppealed.group_id": PUBLIC,
    "planet.groups.v1.GroupCloseAppealed.seq": PUBLIC,
    "planet.groups.v1.GroupCloseAppealed.at_ms": PUBLIC,
    "planet.groups.v1.GroupCloseAppealed.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.GroupCloseAppealed.text": PRIVATE_CONTENT,
    "planet.groups.v1.AppealDecided.group_id": PUBLIC,
    "planet.groups.v1.AppealDecided.seq": PUBLIC,
    "planet.groups.v1.AppealDecided.at_ms": PUBLIC,
    "planet.groups.v1.AppealDecided.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.AppealDecided.granted": PUBLIC,
    "planet.groups.v1.AppealDecided.note": PRIVATE_CONTENT,
    "planet.groups.v1.OwnershipTransferred.group_id": PUBLIC,
    "planet.groups.v1.OwnershipTransferred.seq": PUBLIC,
    "planet.groups.v1.OwnershipTransferred.at_ms": PUBLIC,
    "planet.groups.v1.OwnershipTransferred.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.OwnershipTransferred.new_owner_id": PRIVATE_CONTENT,
    "planet.groups.v1.MemberLeft.group_id": PUBLIC,
    "planet.groups.v1.MemberLeft.seq": PUBLIC,
    "planet.groups.v1.MemberLeft.at_ms": PUBLIC,
    "planet.groups.v1.MemberLeft.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.InviteLinkCreated.group_id": PUBLIC,
    "planet.groups.v1.InviteLinkCreated.seq": PUBLIC,
    "planet.groups.v1.InviteLinkCreated.at_ms": PUBLIC,
    "planet.groups.v1.InviteLinkCreated.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.InviteLinkCreated.link_id": SECRET,
    "planet.groups.v1.InviteLinkCreated.expires_at_ms": PUBLIC,
    "planet.groups.v1.InviteLinkCreated.use_limit": PUBLIC,
    "planet.groups.v1.InviteLinkCreated.name": PRIVATE_CONTENT,
    "planet.groups.v1.InviteLinkRevoked.group_id": PUBLIC,
    "planet.groups.v1.InviteLinkRevoked.seq": PUBLIC,
    "planet.groups.v1.InviteLinkRevoked.at_ms": PUBLIC,
    "planet.groups.v1.InviteLinkRevoked.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.InviteLinkRevoked.link_id": SECRET,
    "planet.groups.v1.InviteLinkRevoked.reason": PRIVATE_CONTENT,
    "planet.groups.v1.JoinRequested.group_id": PUBLIC,
    "planet.groups.v1.JoinRequested.seq": PUBLIC,
    "planet.groups.v1.JoinRequested.at_ms": PUBLIC,
    "planet.groups.v1.JoinRequested.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.JoinRequested.note": PRIVATE_CONTENT,
    "planet.groups.v1.JoinRequestDecided.group_id": PUBLIC,
    "planet.groups.v1.JoinRequestDecided.seq": PUBLIC,
    "planet.groups.v1.JoinRequestDecided.at_ms": PUBLIC,
    "planet.groups.v1.JoinRequestDecided.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.JoinRequestDecided.user_id": PRIVATE_CONTENT,
    "planet.groups.v1.JoinRequestDecided.approved": PUBLIC,
    "planet.groups.v1.JoinRequestDecided.reason": PRIVATE_CONTENT,
    "planet.groups.v1.MessagePosted.group_id": PUBLIC,
    "planet.groups.v1.MessagePosted.seq": PUBLIC,
    "planet.groups.v1.MessagePosted.at_ms": PUBLIC,
    "planet.groups.v1.MessagePosted.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.MessagePosted.text": PRIVATE_CONTENT,
    "planet.groups.v1.MessagePosted.mentions": PRIVATE_CONTENT,
    "planet.groups.v1.MessagePosted.reply_to": PUBLIC,
    "planet.groups.v1.MessagePosted.attachments": PRIVATE_CONTENT,
    "planet.groups.v1.MessagePosted.announcement": PUBLIC,
    "planet.groups.v1.MessagePosted.released_from": PUBLIC,
    "planet.groups.v1.MessagePosted.notified": PRIVATE_CONTENT,
    "planet.groups.v1.MessageEdited.group_id": PUBLIC,
    "planet.groups.v1.MessageEdited.seq": PUBLIC,
    "planet.groups.v1.MessageEdited.at_ms": PUBLIC,
    "planet.groups.v1.MessageEdited.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.MessageEdited.message_seq": PUBLIC,
    "planet.groups.v1.MessageEdited.text": PRIVATE_CONTENT,
    "planet.groups.v1.MessageEdited.mentions": PRIVATE_CONTENT,
    "planet.groups.v1.MessageDeleted.group_id": PUBLIC,
    "planet.groups.v1.MessageDeleted.seq": PUBLIC,
    "planet.groups.v1.MessageDeleted.at_ms": PUBLIC,
    "planet.groups.v1.MessageDeleted.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.MessageDeleted.message_seq": PUBLIC,
    "planet.groups.v1.MessageDeleted.by": PUBLIC,
    "planet.groups.v1.MessageDeleted.reason": PRIVATE_CONTENT,
    "planet.groups.v1.MessageDeleted.author_id": PRIVATE_CONTENT,
    "planet.groups.v1.MessageHeld.group_id": PUBLIC,
    "planet.groups.v1.MessageHeld.seq": PUBLIC,
    "planet.groups.v1.MessageHeld.at_ms": PUBLIC,
    "planet.groups.v1.MessageHeld.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.MessageHeld.text": PRIVATE_CONTENT,
    "planet.groups.v1.MessageHeld.mentions": PRIVATE_CONTENT,
    "planet.groups.v1.MessageHeld.reply_to": PUBLIC,
    "planet.groups.v1.MessageHeld.attachments": PRIVATE_CONTENT,
    "planet.groups.v1.HeldMessageDecided.group_id": PUBLIC,
    "planet.groups.v1.HeldMessageDecided.seq": PUBLIC,
    "planet.groups.v1.HeldMessageDecided.at_ms": PUBLIC,
    "planet.groups.v1.HeldMessageDecided.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.HeldMessageDecided.message_seq": PUBLIC,
    "planet.groups.v1.HeldMessageDecided.approved": PUBLIC,
    "planet.groups.v1.HeldMessageDecided.reason": PRIVATE_CONTENT,
    "planet.groups.v1.HeldMessageDecided.author_id": PRIVATE_CONTENT,
    "planet.groups.v1.ReactionSet.group_id": PUBLIC,
    "planet.groups.v1.ReactionSet.seq": PUBLIC,
    "planet.groups.v1.ReactionSet.at_ms": PUBLIC,
    "planet.groups.v1.ReactionSet.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.ReactionSet.message_seq": PUBLIC,
    "planet.groups.v1.ReactionSet.emoji": PUBLIC,
    "planet.groups.v1.ReactionSet.author_id": PRIVATE_CONTENT,
    "planet.groups.v1.ReactionRemoved.group_id": PUBLIC,
    "planet.groups.v1.ReactionRemoved.seq": PUBLIC,
    "planet.groups.v1.ReactionRemoved.at_ms": PUBLIC,
    "planet.groups.v1.ReactionRemoved.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.ReactionRemoved.message_seq": PUBLIC,
    "planet.groups.v1.ReactionRemoved.emoji": PUBLIC,
    "planet.groups.v1.ReadPositionSet.group_id": PUBLIC,
    "planet.groups.v1.ReadPositionSet.seq": PUBLIC,
    "planet.groups.v1.ReadPositionSet.at_ms": PUBLIC,
    "planet.groups.v1.ReadPositionSet.actor_id": PRIVATE_CONTENT,
    "planet.groups.v1.ReadPositionSet.read_seq": PUBLIC,
}

FIELD_CLASSES: Mapping[str, DataClass] = MappingProxyType(_FIELDS)


@dataclass(frozen=True, slots=True)
class Sunk:
    """The sink stores this topic; the classes of its envelope's event id and Kafka key."""

    event_id: DataClass
    aggregate_id: DataClass

    def __post_init__(self) -> None:
        # Every stored row needs both: the event id is the dedup key.
        for name, cls in (("event_id", self.event_id), ("aggregate_id", self.aggregate_id)):
            if cls in NEVER_STORED:
                raise ValueError(f"a sunk topic's {name} cannot be {cls}: rows need it")


@dataclass(frozen=True, slots=True)
class NotSunk:
    """The sink never reads this topic, for the reason given."""

    reason: str


SinkPolicy = Sunk | NotSunk

_DEAD_LETTERS = NotSunk(
    "dead letters are records nobody could read: opaque bytes of any class, kept for "
    "operators on Kafka itself, never copied into query tables"
)

_BLOCKS_REASON = (
    "blocks and mutes are private content: even that a user blocked or muted someone, and "
    "when, is theirs; a row with pseudonymised ids would still tell it"
)
_INBOUND_REASON = (
    "a copy of planet.social.graph.v1 and planet.social.blocks.v1 re-keyed by the other party "
    "for the followee's side: sinking it would count every follow twice and leak blocks"
)
_NOTIFICATIONS_REASON = (
    "a user's notifications are theirs alone: nobody else reads them (not even who notified "
    "whom, which may name a private group or a moderation case)"
)

_GROUPS_REASON = (
    "private group content: what members of a group write, who they are and how they are "
    "moderated is theirs (issue 15); engagement with groups reaches the incentive engine as "
    "its own fact rows"
)
_GROUP_INDEX_REASON = (
    "a copy of planet.groups.events.v1's membership facts re-keyed by member (the groups "
    "service's per-user index): private group content, and a copy"
)

_POLICIES: dict[str, SinkPolicy] = {
    # Event ids are digests of the post id; the key is the post id.
    "planet.content.posts.v1": Sunk(event_id=PUBLIC, aggregate_id=PUBLIC),
    "planet.content.author-posts.v1": NotSunk(
        "a copy of planet.content.posts.v1 re-keyed by author (content's per-author index): "
        "the posts topic is sunk already; sinking this would count every post twice"
    ),
    "planet.content.drafts.v1": NotSunk(
        "drafts are private content: what an author has not published is theirs alone"
    ),
    # Keyed by post id; event ids are digests of (action, actor, target, idempotency key):
    # one-way, so they name nobody without the actor's id, which the payload carries apart.
    "planet.content.interactions.v1": Sunk(event_id=PUBLIC, aggregate_id=PUBLIC),
    # Keyed by post id; event ids are digests of (item or report id, decision, number):
    # one-way, and a report id is itself a digest (classified personal in the payload).
    "planet.content.moderation.v1": Sunk(event_id=PUBLIC, aggregate_id=PUBLIC),
    "planet.content.topic-posts.v1": NotSunk(
        "a copy of planet.content.posts.v1 under each of the post's topics (content's topic "
        "index): the posts topic is sunk already; sinking this would count posts again "
        "(and its TopicEngagement copies count again the interactions topic's likes, "
        "comments and shares)"
    ),
    # Keyed by arena id; event ids are the arena id and the definition's time.
    "planet.content.arenas.v1": Sunk(event_id=PUBLIC, aggregate_id=PUBLIC),
    # Keyed by symbol; event ids are the symbol and the report's time (market data).
    "planet.exchange.instruments.v1": Sunk(event_id=PUBLIC, aggregate_id=PUBLIC),
    # Keyed by consumer; the envelope's event id is the consumer-scoped batch id.
    "planet.engagement.batches.v1": Sunk(event_id=PERSONAL, aggregate_id=PERSONAL),
    # Keyed by user; event ids are "kyc_<user id>" and the exchange's fee and fill ids.
    "planet.exchange.kyc.v1": Sunk(event_id=PERSONAL, aggregate_id=PERSONAL),
    "planet.exchange.trade-fees.v1": Sunk(event_id=PERSONAL, aggregate_id=PERSONAL),
    "planet.exchange.fills.v1": Sunk(event_id=PERSONAL, aggregate_id=PERSONAL),
    # Keyed by output partition ("q3", "p1"); event ids name the aggregator group and offsets.
    "planet.incentive.engagement-deltas.v1": Sunk(event_id=PUBLIC, aggregate_id=PUBLIC),
    "planet.incentive.engagement-dedup.v1": Sunk(event_id=PUBLIC, aggregate_id=PUBLIC),
    "planet.incentive.engagement-dedup.v2": NotSunk(
        "the aggregator's compacted dedup state: snapshots rewrite ids and tombstones delete "
        "them, so it is not a stream of facts; the deltas topic carries what was counted"
    ),
    "planet.dlq.engagement-aggregator.v1": _DEAD_LETTERS,
    "planet.dlq.scoring-processor.v1": _DEAD_LETTERS,
    "planet.dlq.analytics-sink.v1": _DEAD_LETTERS,
    "planet.audit.analytics-queries.v1": NotSunk(
        "who queried what: the audit of analyst and operator queries is itself personal and "
        "must never become readable by the analysts it audits"
    ),
    # Keyed by user id; event ids are derived from the user id and the account's version.
    "planet.social.identities.v1": Sunk(event_id=PERSONAL, aggregate_id=PERSONAL),
    # Keyed by handle (public on every home page); event ids embed the handle and version.
    "planet.social.handles.v1": Sunk(event_id=PUBLIC, aggregate_id=PUBLIC),
    # Keyed by follower id; event ids are derived from the follower and their edge's version.
    "planet.social.graph.v1": Sunk(event_id=PERSONAL, aggregate_id=PERSONAL),
    "planet.social.blocks.v1": NotSunk(_BLOCKS_REASON),
    "planet.social.graph-inbound.v1": NotSunk(_INBOUND_REASON),
    "planet.social.notifications.v1": NotSunk(_NOTIFICATIONS_REASON),
    # The weekly pool (docs/incentives.md). The facts are the incentive side's copies of
    # telemetry, interactions and follows, all sunk already at their source.
    "planet.incentive.view-facts.v1": NotSunk(
        "the aggregator's deduplicated copy of planet.engagement.batches.v1 (sunk already): "
        "sinking it would count every view twice"
    ),
    "planet.incentive.interaction-facts.v1": NotSunk(
        "a copy of content's interactions and social's follows (both sunk already) as model "
        "rows: sinking it would count them twice"
    ),
    "planet.incentive.user-status.v1": NotSunk(
        "derived state (a compacted projection of KYC, identities, sanctions and fees, all "
        "sunk at their source), rewritten on every change"
    ),
    "planet.incentive.item-status.v1": NotSunk(
        "derived state (a compacted projection of posts and removals, sunk at their source)"
    ),
    # Keyed by ISO week; event ids are the operation's idempotency key or the week.
    "planet.incentive.operations.v1": Sunk(event_id=PUBLIC, aggregate_id=PUBLIC),
    "planet.incentive.weeks.v1": Sunk(event_id=PUBLIC, aggregate_id=PUBLIC),
    # Keyed by creator; event ids embed the week and the creator id.
    "planet.incentive.creator-weeks.v1": Sunk(event_id=PERSONAL, aggregate_id=PERSONAL),
    "planet.incentive.estimates.v1": NotSunk(
        "a running estimate rewritten as engagement arrives: not facts, and the settled "
        "result (creator-weeks) is sunk"
    ),
    "planet.incentive.payouts.v1": Sunk(event_id=PERSONAL, aggregate_id=PERSONAL),
    "planet.exchange.payout-instructions.v1": Sunk(event_id=PERSONAL, aggregate_id=PERSONAL),
    "planet.exchange.payouts.v1": Sunk(event_id=PERSONAL, aggregate_id=PERSONAL),
    # Keyed by group id / user id (issue 15): never sunk.
    "planet.groups.events.v1": NotSunk(_GROUPS_REASON),
    "planet.groups.member-index.v1": NotSunk(_GROUP_INDEX_REASON),
}

SINK_POLICIES: Mapping[str, SinkPolicy] = MappingProxyType(_POLICIES)


class UnclassifiedError(ValueError):
    """A topic without a sink policy, or a stored field without a class."""


def field_class(field: FieldDescriptor) -> DataClass | None:
    """The class of ``field``, or None when it is not listed (then it must be walked into)."""
    return FIELD_CLASSES.get(field.full_name)


def walked_into(field: FieldDescriptor) -> Descriptor | None:
    """The message type of a field that is classified field by field, if it is one."""
    message = field.message_type
    if message is None or message.GetOptions().map_entry:
        return None
    return message


def unclassified_fields(descriptor: Descriptor) -> list[str]:
    """Full names of the fields under ``descriptor`` that have no class, depth first."""
    return list(_unclassified(descriptor, set()))


def _unclassified(descriptor: Descriptor, seen: set[str]) -> Iterator[str]:
    if descriptor.full_name in seen:
        return
    seen.add(descriptor.full_name)
    for field in descriptor.fields:
        if field.full_name in PER_TOPIC_ENVELOPE_FIELDS or field_class(field) is not None:
            continue
        if (message := walked_into(field)) is not None:
            yield from _unclassified(message, seen)
        else:
            yield field.full_name


def sink_policy(topic: Topic) -> SinkPolicy:
    """The policy of a registered topic (by its unsuffixed name); UnclassifiedError if none."""
    policy = SINK_POLICIES.get(topic.name)
    if policy is None:
        raise UnclassifiedError(
            f"topic {topic.name} has no sink policy: add Sunk(...) or NotSunk(reason) for it "
            f"to planetkit/classification.py and docs/data-classification.md"
        )
    return policy


def check_classified(topics: Iterable[Topic]) -> None:
    """UnclassifiedError naming every topic without a policy and every unclassified field."""
    problems: list[str] = [f"envelope field {name} has no class"
                           for name in unclassified_fields(Envelope.DESCRIPTOR)]
    for topic in topics:
        try:
            policy = sink_policy(topic)
        except UnclassifiedError as exc:
            problems.append(str(exc))
            continue
        if isinstance(policy, Sunk) and not topic.enveloped:
            problems.append(f"topic {topic.name} is sunk but its records have no envelope")
        for payload in topic.payloads:
            problems.extend(
                f"field {name} (in {payload.DESCRIPTOR.full_name} of topic {topic.name}) has "
                f"no class: classify it in planetkit/classification.py"
                for name in unclassified_fields(cast(Descriptor, payload.DESCRIPTOR))
            )
    if problems:
        raise UnclassifiedError("; ".join(problems))
