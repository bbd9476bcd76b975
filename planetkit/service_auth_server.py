"""The grpc.aio server side of service authentication: verify, authorize the caller service, bind.

Every call except ``grpc.health.v1.Health`` (probes carry no credential) must carry a valid
assertion addressed to this service (``planetkit.service_auth_assertion``); otherwise it ends
with UNAUTHENTICATED and the reason. The calling service must then be allowed to call that
method by the service's policy (deny by default: a method the policy does not name is
refused), otherwise PERMISSION_DENIED. The verified ``Caller`` is bound for the handler, which
authorizes the end user itself through ``current_caller()``.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import grpc

from planetkit.service_auth import Caller, bind_caller, reset_caller
from planetkit.service_auth_assertion import (
    MAX_LIFETIME_S,
    AssertionVerifier,
    Clock,
    InvalidAssertion,
    ServiceAuthSettings,
)
from planetkit.service_auth_keys import load_trust

HEALTH_SERVICE = "grpc.health.v1.Health"
# In a policy: any caller the trust file names may call the method.
ANY_TRUSTED_CALLER = "*"

# Full method name ("/pkg.Service/Method") → the caller identities allowed to call it.
MethodPolicy = Mapping[str, frozenset[str]]
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
log = logging.getLogger(__name__)


class ServiceAuthConfigError(RuntimeError):
    """The process is not configured to authenticate its callers."""


def method_name(service_full_name: str, method: str) -> str:
    """The gRPC path of ``method`` on ``service_full_name``, as the policy keys it."""
    return f"/{service_full_name}/{method}"


def load_verifier(
    identity: str, settings: ServiceAuthSettings, clock: Clock | None = None
) -> AssertionVerifier:
    """A verifier for calls addressed to ``identity``; refuses to run without a trust file."""
    if settings.trust_file is None:
        raise ServiceAuthConfigError(
            f"{identity}: PLANET_SERVICE_AUTH_TRUST_FILE is not set; a gRPC service accepts "
            "only callers whose public keys its trust file lists (see the README, "
            "'Service-to-service authentication')")
    trust = load_trust(settings.trust_file)
    extra = {"clock": clock} if clock is not None else {}
    return AssertionVerifier(identity, trust, max_lifetime_s=MAX_LIFETIME_S,
                             clock_skew_s=settings.clock_skew_s, **extra)


def _handler_factory(handler: Handler) -> Callable[..., Handler]:
    if handler.request_streaming and handler.response_streaming:
        return grpc.stream_stream_rpc_method_handler
    if handler.request_streaming:
        return grpc.stream_unary_rpc_method_handler
    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler
    return grpc.unary_unary_rpc_method_handler


def _behaviour(handler: Handler) -> Callable[..., Any]:
    behaviour = (handler.unary_unary or handler.unary_stream or handler.stream_unary
                 or handler.stream_stream)
    assert behaviour is not None, "a method handler without a behaviour"
    return behaviour


def _with_behaviour(handler: Handler | None, behaviour: Callable[..., Any]) -> Handler:
    if handler is None:
        return grpc.unary_unary_rpc_method_handler(behaviour)
    return _handler_factory(handler)(
        behaviour,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


def _refusing(handler: Handler | None, code: grpc.StatusCode, message: str) -> Handler:
    # A coroutine behaviour fits every kind of method: grpc.aio awaits it, and abort raises.
    async def refuse(_request: object, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        await context.abort(code, message)

    return _with_behaviour(handler, refuse)


def _binding(handler: Handler, caller: Caller) -> Handler:
    """The handler with ``caller`` bound in the task that runs its behaviour."""
    inner = _behaviour(handler)
    if inspect.isasyncgenfunction(inner):
        async def stream(request: object, context: object) -> AsyncIterator[object]:
            token = bind_caller(caller)
            try:
                async for response in inner(request, context):
                    yield response
            finally:
                reset_caller(token)

        return _with_behaviour(handler, stream)
    if not inspect.iscoroutinefunction(inner):
        raise TypeError("service authentication needs async (grpc.aio) handlers")
    awaitable: Callable[[object, object], Awaitable[object]] = inner

    async def call(request: object, context: object) -> object:
        token = bind_caller(caller)
        try:
            return await awaitable(request, context)
        finally:
            reset_caller(token)

    return _with_behaviour(handler, call)


# grpc's stubs make the interceptor class generic; at run time it is not subscriptable.
if TYPE_CHECKING:
    _ServerInterceptor = grpc.aio.ServerInterceptor[Any, Any]
else:
    _ServerInterceptor = grpc.aio.ServerInterceptor


def _service_of(method: str) -> str:
    # "/grpc.health.v1.Health/Check" -> "grpc.health.v1.Health"
    return method.split("/")[1] if method.count("/") == 2 else ""


class ServiceAuthInterceptor(_ServerInterceptor):
    """Authenticates every call but health, checks the caller service, binds the ``Caller``."""

    def __init__(
        self,
        verifier: AssertionVerifier,
        policy: MethodPolicy,
        open_services: Sequence[str] = (HEALTH_SERVICE,),
    ) -> None:
        self._verifier = verifier
        self._policy = policy
        self._open = frozenset(open_services)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler:
        method = handler_call_details.method
        handler: Handler | None = await continuation(handler_call_details)
        if _service_of(method) in self._open and handler is not None:
            return handler
        try:
            caller = self._verifier.verify_metadata(
                handler_call_details.invocation_metadata)
        except InvalidAssertion as exc:
            log.info("refused %s: %s", method[:200], exc)
            return _refusing(handler, grpc.StatusCode.UNAUTHENTICATED, str(exc))
        if handler is None:
            return _refusing(None, grpc.StatusCode.UNIMPLEMENTED, f"no method {method[:200]}")
        allowed = self._policy.get(method, frozenset())
        if caller.service not in allowed and ANY_TRUSTED_CALLER not in allowed:
            return _refusing(handler, grpc.StatusCode.PERMISSION_DENIED,
                             f"service {caller.service!r} may not call {method}")
        return _binding(handler, caller)


def authenticating_server(
    verifier: AssertionVerifier,
    policy: MethodPolicy,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.aio.Server:
    """A grpc.aio server whose every call but health passes ``ServiceAuthInterceptor``."""
    return grpc.aio.server(
        interceptors=[ServiceAuthInterceptor(verifier, policy)], options=list(options)
    )
