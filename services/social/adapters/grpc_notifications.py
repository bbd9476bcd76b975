"""The social servicer's notifications RPCs (a mixin of grpc_server.SocialServicer) and their
part of the method policy."""

from __future__ import annotations

from planetkit.service_auth_server import MethodPolicy

NOTIFICATIONS_POLICY: MethodPolicy = {}


class NotificationsRpc:
    """Mixed into SocialServicer."""
