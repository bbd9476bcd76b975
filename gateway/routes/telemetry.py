"""Telemetry ingestion: one batch in, one Kafka record out."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.deps import BackendsDep, SettingsDep, WriterDep
from gateway.errors import OutcomeUnknown, UpstreamUnavailable
from gateway.openapi import AUTHED, WITH_BODY, errors
from gateway.schemas import Accepted, TelemetryBatch
from gateway.telemetry import batch_envelope, check_batch, split_items, unknown_items

router = APIRouter(prefix="/v1/telemetry", tags=["telemetry"])

OUTCOME_UNKNOWN = (
    "outcome unknown: the event log did not confirm this batch in time, so it may or may "
    "not have been recorded. Retry with the same batch_id and event ids: ids are "
    "deduplicated, so a retry is never counted twice."
)
_S503 = (
    "Either a backend was unavailable before anything was written, or (outcome unknown) the "
    "batch was handed to the event log, which did not confirm it in time: it may still be "
    "recorded. In both cases retry after Retry-After seconds **with the same batch_id and "
    "event ids**: ids are deduplicated per user, so the retry is harmless and never counted "
    "twice."
)


@router.post("/batches", status_code=202, response_model=Accepted,
             responses=errors(*AUTHED, *WITH_BODY, 403, s503=_S503))
async def ingest_batch(
    batch: TelemetryBatch, user: WriterDep, settings: SettingsDep, backends: BackendsDep
) -> Accepted:
    """Accept a batch of the caller's views with their dwell (see 503 for retries).

    Items are posts and group chats ("group:<group id>", while the caller may read the group:
    otherwise the item is unknown, 422). Views only: an event of type "interaction" (a
    claimed like, comment, share...) is refused with 422; those are actions taken through the
    interaction routes."""
    now = backends.clock_ms()
    item_ids = check_batch(batch, max_events=settings.max_batch_events, now_ms=now)
    posts, groups = split_items(item_ids)
    authors = await backends.content.resolve_authors(user, posts) if posts else {}
    if groups:
        # A group's reader is credited to its owner, and only while they may read it: a
        # private group's non-member (or a banned user) gets the unknown-item 422.
        if backends.groups is None:
            raise UpstreamUnavailable("group chats are not available here")
        owners = await backends.groups.resolve_group_items(user, list(groups))
        authors.update((groups[g], owner) for g, owner in owners.items() if g in groups)
    unknown_items(item_ids, authors)
    envelope = batch_envelope(batch, user.user_id, authors, now)
    try:
        await backends.events.publish_batch(envelope)
    except UpstreamUnavailable:
        # The producer may still deliver it after we stop waiting: say so, don't say "no".
        raise OutcomeUnknown(OUTCOME_UNKNOWN) from None
    return Accepted(accepted=len(batch.events))
