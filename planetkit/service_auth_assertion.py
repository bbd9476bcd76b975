"""Per-call service assertions: short-lived EdDSA JWTs a caller signs for one callee.

Why per-call assertions and not mTLS: an assertion carries the **end user** and their roles
on every call, signed by the calling service, so each callee can authorize the user itself
(defence in depth); mTLS only says which workload connected. Assertions also need no CA, no
certificate issuance or rotation machinery: each service has its own Ed25519 key, and each
callee lists the public keys of the callers it trusts (``planetkit.service_auth_keys``).

Claims: ``iss`` the calling service, ``aud`` the callee, ``iat``/``exp`` (a lifetime of at
most ``MAX_LIFETIME_S``), ``jti`` unique per call, ``sub`` the end user ("" when the service
acts for itself), ``roles`` the end user's roles. The header's ``kid`` names the key. An
assertion captured on the wire is good only at the callee it names, and only until it expires.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jwt
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from planetkit.service_auth import Caller
from planetkit.service_auth_keys import SigningKey, TrustSet, load_signing_key

ALGORITHM = "EdDSA"
METADATA_KEY = "authorization"
SCHEME = "Bearer "
# The hard ceilings every verifier enforces, whatever a caller or a setting asks for.
MAX_LIFETIME_S = 60.0
MAX_CLOCK_SKEW_S = 30.0
# An assertion is a few hundred bytes; a longer one is refused before it is parsed.
MAX_ASSERTION_BYTES = 8 * 1024
MAX_ROLES = 32
MAX_CLAIM_CHARS = 256

Clock = Callable[[], float]


class ServiceAuthSettings(BaseSettings):
    """This process's key, whom it trusts, and how long its assertions live.

    Env prefix PLANET_SERVICE_AUTH_: each process has its own environment, so the names
    are the same for every service.
    """

    model_config = SettingsConfigDict(env_prefix="PLANET_SERVICE_AUTH_", extra="ignore")

    # The private JWK this process signs its outgoing calls with (callers only).
    key_file: Path | None = None
    # The callers this process accepts calls from and their public keys (callees only).
    trust_file: Path | None = None
    # Whole seconds count: iat and exp are integers (RFC 7519 NumericDate as PyJWT writes it).
    lifetime_s: float = Field(default=30.0, ge=1, le=MAX_LIFETIME_S)
    clock_skew_s: float = Field(default=5.0, ge=0, le=MAX_CLOCK_SKEW_S)


class InvalidAssertion(ValueError):
    """An assertion that is missing, malformed, forged, for another service or expired."""


class AssertionSigner:
    """Mints one fresh assertion per call; nothing is cached beyond the call it is made for."""

    def __init__(
        self, identity: str, key: SigningKey, lifetime_s: float, clock: Clock = time.time
    ) -> None:
        if not 1 <= lifetime_s <= MAX_LIFETIME_S:
            raise ValueError(f"assertion lifetime must be in [1, {MAX_LIFETIME_S:g}] s")
        self.identity = identity
        self._key = key
        self._lifetime_s = lifetime_s
        self._clock = clock

    def assertion(self, audience: str, user_id: str, roles: Iterable[str]) -> str:
        """A signed assertion for one call to ``audience`` on behalf of ``user_id``."""
        now = self._clock()
        claims = {
            "iss": self.identity,
            "aud": audience,
            "iat": int(now),
            "exp": int(now + self._lifetime_s),
            "jti": secrets.token_urlsafe(16),
            "sub": user_id,
            "roles": sorted(set(roles)),
        }
        return jwt.encode(claims, self._key.key, algorithm=ALGORITHM,
                          headers={"kid": self._key.kid})

    def metadata(self, audience: str, user_id: str, roles: Iterable[str]) -> tuple[tuple[str, str]]:
        """gRPC call metadata carrying a fresh assertion."""
        return ((METADATA_KEY, SCHEME + self.assertion(audience, user_id, roles)),)


def load_signer(
    identity: str, settings: ServiceAuthSettings, clock: Clock = time.time
) -> AssertionSigner:
    """The signer for ``identity``'s outgoing calls; ValueError when no key is configured."""
    if settings.key_file is None:
        raise ValueError(
            f"{identity}: PLANET_SERVICE_AUTH_KEY_FILE is not set; calls to other Planet "
            "services must be signed with this service's own Ed25519 key (see the README, "
            "'Service-to-service authentication')")
    return AssertionSigner(identity, load_signing_key(settings.key_file), settings.lifetime_s,
                           clock)


def _text(claims: dict[str, Any], name: str, *, allow_empty: bool) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or (not value and not allow_empty):
        kind = "a string" if allow_empty else "a non-empty string"
        raise InvalidAssertion(f"claim {name!r} must be {kind}")
    if len(value) > MAX_CLAIM_CHARS:
        raise InvalidAssertion(f"claim {name!r} is longer than {MAX_CLAIM_CHARS} characters")
    return value


class AssertionVerifier:
    """Checks assertions addressed to ``audience`` against a trust set."""

    def __init__(
        self,
        audience: str,
        trust: TrustSet,
        *,
        max_lifetime_s: float = MAX_LIFETIME_S,
        clock_skew_s: float = 5.0,
        clock: Clock = time.time,
    ) -> None:
        self.audience = audience
        self._trust = trust
        self._max_lifetime_s = min(max_lifetime_s, MAX_LIFETIME_S)
        self._skew_s = min(clock_skew_s, MAX_CLOCK_SKEW_S)
        self._clock = clock

    def verify_metadata(self, metadata: Iterable[tuple[str, str | bytes]] | None) -> Caller:
        """The verified caller of a call with ``metadata``; InvalidAssertion otherwise."""
        values = [v for k, v in (metadata or ()) if k == METADATA_KEY]
        if not values:
            raise InvalidAssertion(
                "no service assertion: send 'authorization: Bearer <assertion>' metadata")
        if len(values) > 1:
            raise InvalidAssertion("more than one authorization metadata entry")
        value = values[0]
        if isinstance(value, bytes) or not value.startswith(SCHEME):
            raise InvalidAssertion("authorization metadata must be 'Bearer <assertion>'")
        return self.verify(value[len(SCHEME):])

    def verify(self, token: str) -> Caller:
        """The caller a valid assertion names; InvalidAssertion with the reason otherwise."""
        if len(token) > MAX_ASSERTION_BYTES:
            raise InvalidAssertion(f"assertion is longer than {MAX_ASSERTION_BYTES} bytes")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError as exc:
            raise InvalidAssertion(f"malformed assertion: {exc}") from None
        if header.get("alg") != ALGORITHM:
            raise InvalidAssertion(f"assertions are signed with {ALGORITHM}")
        kid, issuer = header.get("kid"), unverified.get("iss")
        if not isinstance(kid, str) or not isinstance(issuer, str):
            raise InvalidAssertion("assertion names no key id ('kid') or issuer ('iss')")
        # The key is looked up under the claimed issuer, so one service's key never vouches
        # for an assertion that claims to come from another.
        key = self._trust.key_for(issuer, kid)
        if key is None:
            raise InvalidAssertion(f"unknown caller or key: iss {issuer[:64]!r}, kid {kid[:64]!r}")
        try:
            # Time is checked below against the injectable clock; PyJWT checks the rest.
            claims = jwt.decode(
                token, key, algorithms=[ALGORITHM], audience=self.audience, issuer=issuer,
                options={"require": ["iss", "aud", "iat", "exp", "jti", "sub"],
                         "verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.InvalidAudienceError:
            raise InvalidAssertion(f"assertion is not addressed to {self.audience!r}") from None
        except jwt.InvalidTokenError as exc:
            raise InvalidAssertion(f"invalid assertion: {exc}") from None
        self._check_time(claims)
        _text(claims, "jti", allow_empty=False)
        roles = claims.get("roles", [])
        if (not isinstance(roles, list) or len(roles) > MAX_ROLES
                or not all(isinstance(r, str) and 0 < len(r) <= MAX_CLAIM_CHARS for r in roles)):
            raise InvalidAssertion(f"claim 'roles' must be at most {MAX_ROLES} role names")
        return Caller(issuer, _text(claims, "sub", allow_empty=True), frozenset(roles))

    def _check_time(self, claims: dict[str, Any]) -> None:
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int):
            raise InvalidAssertion("claims 'iat' and 'exp' must be integers")
        if not 0 < exp - iat <= self._max_lifetime_s:
            raise InvalidAssertion(
                f"assertion lifetime must be in (0, {self._max_lifetime_s:g}] s")
        now = self._clock()
        if iat > now + self._skew_s:
            raise InvalidAssertion("assertion is issued in the future")
        if exp + self._skew_s <= now:
            raise InvalidAssertion("assertion has expired")
