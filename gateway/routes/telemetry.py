"""Telemetry ingestion: one batch in, one Kafka record out."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.deps import BackendsDep, SettingsDep, UserDep
from gateway.schemas import Accepted, TelemetryBatch
from gateway.telemetry import batch_envelope, check_batch, unknown_items

router = APIRouter(prefix="/v1/telemetry", tags=["telemetry"])


@router.post("/batches", status_code=202, response_model=Accepted)
async def ingest_batch(
    batch: TelemetryBatch, user: UserDep, settings: SettingsDep, backends: BackendsDep
) -> Accepted:
    """Accept a batch of the caller's views and interactions."""
    now = backends.clock_ms()
    item_ids = check_batch(batch, max_events=settings.max_batch_events, now_ms=now)
    authors = await backends.content.resolve_authors(item_ids)
    unknown_items(item_ids, authors)
    await backends.events.publish_batch(batch_envelope(batch, user.user_id, authors, now))
    return Accepted(accepted=len(batch.events))
