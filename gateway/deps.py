"""Request dependencies, all read from the app the composition root built."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from gateway.auth import InvalidToken, Principal, verify_token
from gateway.ports import Backends
from gateway.settings import GatewaySettings

_bearer = HTTPBearer(auto_error=False, description="A JWT from your identity provider")


def get_settings(conn: HTTPConnection) -> GatewaySettings:
    """The settings this app was built with."""
    settings: GatewaySettings = conn.app.state.settings
    return settings


def get_backends(conn: HTTPConnection) -> Backends:
    """The backends opened by the lifespan."""
    backends: Backends = conn.app.state.backends
    return backends


SettingsDep = Annotated[GatewaySettings, Depends(get_settings)]
BackendsDep = Annotated[Backends, Depends(get_backends)]


def unauthorized(message: str) -> HTTPException:
    """401 asking for a bearer token."""
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def current_user(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller named by a valid bearer token; 401 otherwise."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
    try:
        return verify_token(settings.jwt_secret, credentials.credentials)
    except InvalidToken as exc:
        raise unauthorized(str(exc)) from None


UserDep = Annotated[Principal, Depends(current_user)]
