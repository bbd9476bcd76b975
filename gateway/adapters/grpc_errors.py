"""gRPC status codes as gateway errors."""

from __future__ import annotations

import logging

import grpc

from gateway.errors import (
    Conflict,
    GatewayError,
    NotFound,
    Unprocessable,
    UpstreamFailed,
    UpstreamUnavailable,
)

log = logging.getLogger(__name__)


class Refused(GatewayError):
    """A service refused the user this call was made for; its message says why."""

    status = 403


def translate(exc: grpc.aio.AioRpcError, service: str) -> GatewayError:
    """The gateway error a failed call means to the client."""
    code = exc.code()
    details = exc.details() or code.name
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        # The details name internal addresses: they go to the log, not to clients.
        log.warning("%s: %s %s", service, code.name, details)
        return UpstreamUnavailable(f"{service} is unavailable, try again later")
    if code == grpc.StatusCode.NOT_FOUND:
        return NotFound(details)
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return Unprocessable(details)
    # PERMISSION_DENIED: not this user. FAILED_PRECONDITION: not this user *yet* or not now
    # (no KYC, no creator identity, identity suspended): both are 403 with the service's
    # reason, so the client can tell the person what to do.
    if code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.FAILED_PRECONDITION):
        return Refused(details)
    # The caller's own doing, so 4xx with the service's message (written for clients).
    if code in (grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.ABORTED):
        return Conflict(details)
    if code in (grpc.StatusCode.OUT_OF_RANGE, grpc.StatusCode.RESOURCE_EXHAUSTED):
        return Unprocessable(details)
    if code == grpc.StatusCode.CANCELLED:
        return UpstreamUnavailable(f"{service} did not finish the call, try again later")
    if code == grpc.StatusCode.UNAUTHENTICATED:
        # The service refused the gateway's own credentials: keys or trust files are wrong.
        log.error("%s refused the gateway's service assertion: %s", service, details)
        return UpstreamFailed(f"{service} refused the gateway's credentials")
    log.error("%s: %s %s", service, code.name, details)
    return UpstreamFailed(f"{service} failed: {code.name}")
