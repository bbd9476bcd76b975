"""The social servicer's notifications RPCs (a mixin of grpc_server.SocialServicer) and their
part of the method policy.

Who may call: the gateway only, for the end user the call is made for, who must be the
recipient. Nobody reads or marks another user's notifications, operators neither (an inbox
may name a private group or a moderation case): any other user is PERMISSION_DENIED.
"""

from __future__ import annotations

from typing import Any, Protocol

from planet.social.v1 import social_service_pb2 as rpc
from planetkit.service_auth import current_caller
from planetkit.service_auth_server import MethodPolicy, method_name
from planetkit.service_identities import GATEWAY
from services.social.adapters.grpc_common import SERVICE_NAME, Context, holder
from services.social.adapters.grpc_common import run as _run_call

NOTIFICATIONS_POLICY: MethodPolicy = {
    method_name(SERVICE_NAME, m): frozenset({GATEWAY})
    for m in ("ListNotifications", "MarkNotificationsRead")
}


class NotificationUseCases(Protocol):
    """What the servicer calls (services.social.notifications.Notifications)."""

    async def list(self, recipient: str, after: int, limit: int) -> rpc.NotificationPage:
        """The recipient's notifications after a position, with their counts."""

    async def mark_read(self, recipient: str, up_to: int) -> rpc.NotificationPage:
        """Mark read up to a position (never backwards, never past the last)."""


class NotificationsRpc:
    """Mixed into SocialServicer."""

    _notifications: NotificationUseCases

    async def _run(self, context: Context, call: Any) -> Any:
        return await _run_call(context, call)

    async def ListNotifications(self, request: rpc.ListNotificationsRequest,
                                context: Context) -> rpc.NotificationPage:
        """The caller's own notifications after ``after_position`` (1-500, default 100)."""
        async def call() -> rpc.NotificationPage:
            holder(current_caller(), request.user_id)
            return await self._notifications.list(request.user_id, request.after_position,
                                                  request.limit)
        result: rpc.NotificationPage = await self._run(context, call)
        return result

    async def MarkNotificationsRead(self, request: rpc.MarkNotificationsReadRequest,
                                    context: Context) -> rpc.NotificationPage:
        """The caller marks their notifications read up to a position; the counts after."""
        async def call() -> rpc.NotificationPage:
            holder(current_caller(), request.user_id)
            return await self._notifications.mark_read(request.user_id,
                                                       request.up_to_position)
        result: rpc.NotificationPage = await self._run(context, call)
        return result
