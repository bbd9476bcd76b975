"""The social servicer's track record RPCs (a mixin of grpc_server.SocialServicer) and their
part of the method policy."""

from __future__ import annotations

from planetkit.service_auth_server import MethodPolicy

TRACK_RECORD_POLICY: MethodPolicy = {}


class TrackRecordRpc:
    """Mixed into SocialServicer."""
