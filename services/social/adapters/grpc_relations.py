"""The social servicer's relations RPCs (a mixin of grpc_server.SocialServicer) and their
part of the method policy."""

from __future__ import annotations

from planetkit.service_auth_server import MethodPolicy

RELATIONS_POLICY: MethodPolicy = {}


class RelationsRpc:
    """Mixed into SocialServicer."""
