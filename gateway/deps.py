"""Request dependencies, all read from the app the composition root built."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from gateway.auth import InvalidToken, Principal, TokenVerifier
from gateway.client_ip import Network, client_ip
from gateway.errors import TooManyRequests, UpstreamUnavailable
from gateway.jwks import JwksUnavailable
from gateway.ports import Backends
from gateway.ratelimit import Limit, RateLimiter
from gateway.settings import GatewaySettings

_bearer = HTTPBearer(auto_error=False, description="A JWT from the exchange's identity provider")

USER_WRITES = "user-writes"
IP_WRITES = "ip-writes"
IP_TOKEN_USES = "ip-token-uses"
IP_TOKEN_MINTS = "ip-token-mints"


def make_limiter(settings: GatewaySettings) -> RateLimiter:
    """The gateway's limits; each allows a minute's worth at once, then its steady rate."""
    limits = [
        Limit(USER_WRITES, settings.rate_user_writes_per_minute,
              settings.rate_user_writes_per_minute),
        Limit(IP_WRITES, settings.rate_ip_writes_per_minute, settings.rate_ip_writes_per_minute),
        Limit(IP_TOKEN_USES, settings.rate_ip_token_uses_per_minute,
              settings.rate_ip_token_uses_per_minute),
        Limit(IP_TOKEN_MINTS, settings.rate_ip_token_mints_per_minute,
              settings.rate_ip_token_mints_per_minute),
    ]
    return RateLimiter(limits, replicas=settings.rate_limit_replicas,
                       max_keys=settings.rate_limit_max_keys)


def get_settings(conn: HTTPConnection) -> GatewaySettings:
    """The settings this app was built with."""
    settings: GatewaySettings = conn.app.state.settings
    return settings


def get_backends(conn: HTTPConnection) -> Backends:
    """The backends opened by the lifespan."""
    backends: Backends = conn.app.state.backends
    return backends


def get_verifier(conn: HTTPConnection) -> TokenVerifier:
    """The token verifier of this app's mode (JWKS or dev)."""
    verifier: TokenVerifier = conn.app.state.verifier
    return verifier


SettingsDep = Annotated[GatewaySettings, Depends(get_settings)]
BackendsDep = Annotated[Backends, Depends(get_backends)]
VerifierDep = Annotated[TokenVerifier, Depends(get_verifier)]


def request_ip(conn: HTTPConnection) -> str:
    """The caller's address: the peer, or what a trusted proxy says stands behind it."""
    proxies: list[Network] = conn.app.state.trusted_proxies
    peer = conn.client.host if conn.client else None
    return client_ip(peer, conn.headers.getlist("x-forwarded-for"), proxies)


def charge(conn: HTTPConnection, limit: str, key: str, what: str) -> None:
    """Spend one token of ``limit`` for ``key``; TooManyRequests when none is left."""
    limiter: RateLimiter = conn.app.state.limiter
    wait = limiter.take(limit, key)
    if wait:
        raise TooManyRequests(f"too many {what}; retry after {wait} s", wait)


def unauthorized(message: str) -> HTTPException:
    """401 asking for a bearer token."""
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


async def authenticate(conn: HTTPConnection, verifier: TokenVerifier, token: str) -> Principal:
    """The principal of ``token``; every attempt counts against the caller's IP."""
    charge(conn, IP_TOKEN_USES, request_ip(conn), "requests with a token from this address")
    try:
        return await verifier.verify(token)
    except JwksUnavailable as exc:
        raise UpstreamUnavailable(f"cannot check tokens right now: {exc}") from None


async def current_user(
    conn: HTTPConnection,
    verifier: VerifierDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller named by a valid bearer token; 401 otherwise."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
    try:
        return await authenticate(conn, verifier, credentials.credentials)
    except InvalidToken as exc:
        raise unauthorized(str(exc)) from None


UserDep = Annotated[Principal, Depends(current_user)]


async def current_writer(conn: HTTPConnection, user: UserDep) -> Principal:
    """The caller of a write, within the per-user and per-IP write limits."""
    charge(conn, USER_WRITES, user.user_id, "writes by this user")
    charge(conn, IP_WRITES, request_ip(conn), "writes from this address")
    return user


WriterDep = Annotated[Principal, Depends(current_writer)]
