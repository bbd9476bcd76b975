"""What the gateway needs from the rest of the system, as small interfaces.

Every call to another service names the verified user it is made for (``caller``): the
service receives that user in the call's signed assertion and authorizes them itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from gateway.auth import Principal
from planet.content.v1 import content_service_pb2 as content
from planet.events.v1.envelope_pb2 import Envelope
from planet.incentive.v1 import incentive_service_pb2 as incentive


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


class IncentivePort(Protocol):
    """The incentive service's estimates."""

    async def weekly_estimate(
        self, caller: Principal, creator_id: str, week: str
    ) -> incentive.WeeklyEstimate:
        """The running estimate of a creator's week ("" = current week)."""


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


@dataclass(frozen=True)
class Backends:
    """Everything a request handler may call, built once by the composition root."""

    content: ContentPort
    incentive: IncentivePort
    events: EventSink
    clock_ms: Callable[[], int]
    # Optional so that setups without the analytics sink (and their fakes) need not name it.
    analytics: AnalyticsPort | None = None
