"""Bearer tokens: HS256 JWTs whose subject is the user id."""

from __future__ import annotations

from dataclasses import dataclass

import jwt

ALGORITHM = "HS256"


class InvalidToken(ValueError):
    """A token that is missing, malformed, expired or signed with another key."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject and roles."""

    user_id: str
    roles: frozenset[str]


def issue_token(
    secret: str, user_id: str, roles: list[str], *, now_s: int, ttl_s: int
) -> str:
    """A signed token for ``user_id`` valid for ``ttl_s`` seconds from ``now_s``."""
    claims = {"sub": user_id, "roles": sorted(set(roles)), "iat": now_s, "exp": now_s + ttl_s}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str) -> Principal:
    """The principal a valid token names; InvalidToken with the reason otherwise."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]}
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("token has expired") from None
    except jwt.InvalidTokenError as exc:
        raise InvalidToken(f"invalid token: {exc}") from None
    sub = claims.get("sub")
    roles = claims.get("roles", [])
    if not isinstance(sub, str) or not sub:
        raise InvalidToken("invalid token: sub must be a user id")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise InvalidToken("invalid token: roles must be a list of strings")
    return Principal(sub, frozenset(roles))
