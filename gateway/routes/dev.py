"""Dev-only token minting; mounted only when dev_mode is on."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.auth import issue_token
from gateway.deps import BackendsDep, SettingsDep
from gateway.schemas import TokenRequest, TokenResponse

router = APIRouter(prefix="/v1/dev", tags=["dev"])


@router.post("/tokens", response_model=TokenResponse)
async def mint_token(
    body: TokenRequest, settings: SettingsDep, backends: BackendsDep
) -> TokenResponse:
    """A token for any user and roles (dev mode only)."""
    now_s = backends.clock_ms() // 1000
    token = issue_token(
        settings.jwt_secret, body.user_id, body.roles, now_s=now_s, ttl_s=settings.token_ttl_s
    )
    return TokenResponse(token=token)
