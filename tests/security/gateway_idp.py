"""A stand-in for the exchange's identity provider: real keys, a real JWKS file, real JWTs.

Tokens are signed with freshly generated RSA and EC keys whose public halves are written to
a JWKS file the gateway reads, exactly as it would read the provider's.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://id.exchange.test/"
AUDIENCE = "planet-api"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class IdP:
    """Signing keys by kid, published as a JWKS file."""

    def __init__(self, jwks_path: Path) -> None:
        self.jwks_path = jwks_path
        self.keys: dict[str, tuple[str, PrivateKey]] = {}
        self.add_key("rsa-1", "RS256")
        self.add_key("ec-1", "ES256")

    def add_key(self, kid: str, alg: str) -> None:
        """Generate a key and publish it (a rotation adds one)."""
        key: PrivateKey = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if alg == "RS256" else ec.generate_private_key(ec.SECP256R1())
        )
        self.keys[kid] = (alg, key)
        self.publish()

    def publish(self) -> None:
        """Write the public halves of every key as the JWKS document."""
        entries: list[dict[str, Any]] = []
        for kid, (alg, key) in self.keys.items():
            public = key.public_key()
            jwk: dict[str, Any] = (
                RSAAlgorithm.to_jwk(public, as_dict=True)
                if isinstance(public, rsa.RSAPublicKey)
                else ECAlgorithm.to_jwk(public, as_dict=True)
            )
            entries.append({**jwk, "kid": kid, "alg": alg, "use": "sig"})
        self.jwks_path.write_text(json.dumps({"keys": entries}))

    def public_pem(self, kid: str = "rsa-1") -> bytes:
        """The PEM of a public key (what an algorithm-confusion attacker would use)."""
        from cryptography.hazmat.primitives import serialization

        return self.keys[kid][1].public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def token(self, sub: str, roles: list[str] | None = None, *, kid: str = "rsa-1",
              iss: str = ISSUER, aud: str = AUDIENCE, lifetime_s: int = 600,
              iat: int | None = None, **extra: Any) -> str:
        """A token signed by key ``kid``, valid from ``iat`` (now) for ``lifetime_s``."""
        alg, key = self.keys[kid]
        issued = int(time.time()) if iat is None else iat
        claims = {"sub": sub, "roles": roles or [], "iss": iss, "aud": aud, "iat": issued,
                  "exp": issued + lifetime_s, **extra}
        return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})

    def settings(self) -> dict[str, object]:
        """GatewaySettings values that trust this provider."""
        return {"jwks_file": str(self.jwks_path), "jwt_issuer": ISSUER, "jwt_audience": AUDIENCE}
