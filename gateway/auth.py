"""Bearer tokens: the exchange's asymmetric JWTs in production, HS256 dev tokens in dev mode."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

import jwt

from gateway.jwks import JwksKeys, file_source, url_source
from gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

DEV_ALGORITHM = "HS256"
# Kept for callers that mint dev tokens (tests, the dev endpoint).
ALGORITHM = DEV_ALGORITHM


DEV_MODE_WARNING = (
    "DEV MODE: POST /v1/dev/tokens mints a token for ANY user with ANY role, and HS256 "
    "tokens signed with PLANET_GATEWAY_JWT_SECRET are accepted. Anyone who can reach this "
    "gateway can act as anyone. Never expose it."
)


def announce_mode(settings: GatewaySettings) -> None:
    """Say loudly, at start, when tokens are minted for anyone."""
    if settings.dev_mode:
        log.warning(DEV_MODE_WARNING)
    elif settings.jwt_secret is not None:
        log.warning("PLANET_GATEWAY_JWT_SECRET is ignored outside dev mode")
    else:
        log.info("tokens: %s from %s, issuer %s", "/".join(settings.jwt_algorithms),
                 settings.jwks_url or settings.jwks_file, settings.jwt_issuer)


class InvalidToken(ValueError):
    """A token that is missing, malformed, expired or signed with another key."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject and roles (and when the token stops being valid)."""

    user_id: str
    roles: frozenset[str]
    expires_at_s: int | None = None


class TokenVerifier(Protocol):
    """Turns a bearer token into the principal it names, or InvalidToken with the reason."""

    async def verify(self, token: str) -> Principal:
        """The principal of a valid token."""

    async def ready(self) -> bool:
        """Whether tokens can be checked now (the identity provider's keys are known)."""


def issue_token(
    secret: str, user_id: str, roles: list[str], *, now_s: int, ttl_s: int
) -> str:
    """A dev-mode HS256 token for ``user_id`` valid for ``ttl_s`` seconds from ``now_s``."""
    claims = {"sub": user_id, "roles": sorted(set(roles)), "iat": now_s, "exp": now_s + ttl_s}
    return jwt.encode(claims, secret, algorithm=DEV_ALGORITHM)


def verify_token(secret: str, token: str) -> Principal:
    """The principal a valid dev-mode (HS256) token names; InvalidToken with the reason."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[DEV_ALGORITHM], options={"require": ["sub", "exp"]}
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("token has expired") from None
    except jwt.InvalidTokenError as exc:
        raise InvalidToken(f"invalid token: {exc}") from None
    return _principal(claims)


def _principal(claims: dict[str, Any]) -> Principal:
    sub = claims.get("sub")
    roles = claims.get("roles", [])
    if not isinstance(sub, str) or not sub or len(sub) > 128:
        raise InvalidToken("invalid token: sub must be a user id of 1 to 128 characters")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise InvalidToken("invalid token: roles must be a list of strings")
    exp = claims.get("exp")
    expires = int(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None
    return Principal(sub, frozenset(roles), expires)


class DevVerifier:
    """HS256 tokens signed with the dev secret (dev mode only)."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    async def verify(self, token: str) -> Principal:
        """See verify_token."""
        return verify_token(self._secret, token)

    async def ready(self) -> bool:
        """The dev secret is always at hand."""
        return True


class JwksVerifier:
    """RS256/ES256 tokens of the exchange's identity provider, checked against its JWKS."""

    def __init__(
        self,
        keys: JwksKeys,
        *,
        issuer: str,
        audience: str,
        algorithms: list[str],
        max_lifetime_s: int,
        leeway_s: int,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._algorithms = frozenset(algorithms)
        self._max_lifetime_s = max_lifetime_s
        self._leeway_s = leeway_s

    async def ready(self) -> bool:
        """Whether the identity provider's keys have been loaded."""
        return await self._keys.loaded()

    async def verify(self, token: str) -> Principal:
        """The principal of a token that passes every check; InvalidToken naming the first miss."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(f"invalid token: {exc}") from None
        alg = header.get("alg")
        # Checked before any key is touched: "none" and HS256-with-the-public-key
        # (algorithm confusion) never reach a verifier.
        if alg not in self._algorithms:
            accepted = " or ".join(sorted(self._algorithms))
            raise InvalidToken(f"invalid token: algorithm {alg!r} is not accepted ({accepted})")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("invalid token: no key id (kid) in the header")
        key = await self._keys.get(kid)
        if key is None:
            raise InvalidToken("invalid token: unknown signing key (kid)")
        if key.algorithm_name != alg:
            raise InvalidToken(f"invalid token: key {kid!r} does not sign {alg}")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway_s,
                options={"require": ["sub", "exp", "iat", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("token has expired") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("invalid token: wrong issuer") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken("invalid token: wrong audience") from None
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(f"invalid token: {exc}") from None
        lifetime = claims["exp"] - claims["iat"]
        if lifetime > self._max_lifetime_s:
            raise InvalidToken(
                f"invalid token: lifetime {lifetime} s exceeds the {self._max_lifetime_s} s limit"
            )
        return _principal(claims)


def make_verifier(settings: GatewaySettings) -> TokenVerifier:
    """The verifier the settings call for (the settings guarantee exactly one mode)."""
    if settings.dev_mode:
        assert settings.jwt_secret is not None  # enforced by GatewaySettings
        return DevVerifier(settings.jwt_secret)
    fetch = (
        url_source(settings.jwks_url, settings.jwks_fetch_timeout_s)
        if settings.jwks_url
        else file_source(settings.jwks_file)
    )
    keys = JwksKeys(
        fetch,
        cache_s=settings.jwks_cache_s,
        min_refresh_interval_s=settings.jwks_min_refresh_interval_s,
    )
    return JwksVerifier(
        keys,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        algorithms=settings.jwt_algorithms,
        max_lifetime_s=settings.jwt_max_lifetime_s,
        leeway_s=settings.jwt_leeway_s,
    )
