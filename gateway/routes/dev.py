"""Dev-only token minting; mounted only when dev_mode is on (never with a real issuer)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from gateway.auth import issue_token
from gateway.deps import IP_TOKEN_MINTS, BackendsDep, SettingsDep, charge, request_ip
from gateway.openapi import WITH_BODY, errors
from gateway.schemas import TokenRequest, TokenResponse

router = APIRouter(prefix="/v1/dev", tags=["dev"])


@router.post("/tokens", response_model=TokenResponse, responses=errors(*WITH_BODY, 429))
async def mint_token(
    request: Request, body: TokenRequest, settings: SettingsDep, backends: BackendsDep
) -> TokenResponse:
    """DEV MODE ONLY: a token for any user with any roles, for anyone who asks."""
    charge(request, IP_TOKEN_MINTS, request_ip(request), "tokens minted from this address")
    assert settings.jwt_secret is not None  # dev mode requires it (GatewaySettings)
    now_s = backends.clock_ms() // 1000
    token = issue_token(
        settings.jwt_secret, body.user_id, body.roles, now_s=now_s, ttl_s=settings.token_ttl_s
    )
    return TokenResponse(token=token)
