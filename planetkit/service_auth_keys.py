"""Ed25519 keys of Planet services and the trust files that name them.

Every service that calls another one holds its own private key (a private JWK: ``kty`` OKP,
``crv`` Ed25519, ``kid``, ``x``, ``d``). Every service that is called reads a **trust file**:
which caller identities it knows and their public keys, JWKS-style::

    {"callers": {"gateway": {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "...", "x": "..."}]}}}

Keys rotate by adding a key id: put the new public key beside the old one in the trust file,
roll the callee out, switch the caller to the new private key, then drop the old public key.

``python -m planetkit.service_auth_keys keygen --identity gateway --dir DIR`` writes
``DIR/gateway.key.json`` (private, mode 0600) and adds its public key to ``DIR/trust.json``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

# A trust file is small; a huge one is a mistake, not a key set.
MAX_TRUST_FILE_BYTES = 1024 * 1024
TRUST_FILE_NAME = "trust.json"
_TRUST_SHAPE = '{"callers": {identity: {"keys": [JWK, ...]}}}'


class KeyFileError(ValueError):
    """A key or trust file that is missing, malformed or not an Ed25519 key."""


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class SigningKey:
    """A service's private key and the key id its callees know the public half by."""

    kid: str
    key: Ed25519PrivateKey

    def public_jwk(self) -> dict[str, str]:
        """The public half as a JWK for trust files."""
        raw = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "kid": self.kid, "x": _b64url(raw)}

    def private_jwk(self) -> dict[str, str]:
        """The private key as a JWK (what a key file holds)."""
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        raw = self.key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return {**self.public_jwk(), "d": _b64url(raw)}


def new_signing_key(identity: str) -> SigningKey:
    """A fresh key for ``identity``; the key id names the identity and is unique."""
    return SigningKey(f"{identity}-{secrets.token_hex(8)}", Ed25519PrivateKey.generate())


def _okp_fields(jwk: Mapping[str, Any], where: str) -> tuple[str, bytes]:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise KeyFileError(f"{where}: only Ed25519 keys (kty OKP, crv Ed25519) are accepted")
    kid, x = jwk.get("kid"), jwk.get("x")
    if not isinstance(kid, str) or not kid or not isinstance(x, str):
        raise KeyFileError(f"{where}: a key needs a non-empty 'kid' and its public 'x'")
    try:
        public = _unb64url(x)
    except ValueError:
        raise KeyFileError(f"{where}: 'x' of key {kid!r} is not base64url") from None
    if len(public) != 32:
        raise KeyFileError(f"{where}: 'x' of key {kid!r} is not a 32-byte Ed25519 key")
    return kid, public


def _read_json(path: Path, what: str) -> Any:
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_TRUST_FILE_BYTES + 1)
    except OSError as exc:
        raise KeyFileError(f"cannot read the {what} {path}: {exc.strerror}") from None
    if len(raw) > MAX_TRUST_FILE_BYTES:
        raise KeyFileError(f"the {what} {path} is larger than {MAX_TRUST_FILE_BYTES} bytes")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise KeyFileError(f"the {what} {path} is not JSON: {exc}") from None


def load_signing_key(path: Path) -> SigningKey:
    """The private JWK at ``path``; KeyFileError naming what is wrong."""
    jwk = _read_json(path, "service key file")
    if not isinstance(jwk, dict):
        raise KeyFileError(f"{path}: a key file holds one JWK object")
    kid, _ = _okp_fields(jwk, str(path))
    d = jwk.get("d")
    if not isinstance(d, str):
        raise KeyFileError(f"{path}: key {kid!r} has no private part 'd'")
    try:
        key = Ed25519PrivateKey.from_private_bytes(_unb64url(d))
    except ValueError:
        raise KeyFileError(f"{path}: 'd' of key {kid!r} is not a 32-byte Ed25519 key") from None
    if SigningKey(kid, key).public_jwk()["x"] != jwk["x"]:
        raise KeyFileError(f"{path}: 'x' of key {kid!r} is not the public half of 'd'")
    return SigningKey(kid, key)


@dataclass(frozen=True)
class TrustSet:
    """Caller identity → its public keys by key id."""

    callers: Mapping[str, Mapping[str, Ed25519PublicKey]]

    def key_for(self, caller: str, kid: str) -> Ed25519PublicKey | None:
        """The public key ``caller`` signs with under ``kid``; None when unknown."""
        return self.callers.get(caller, {}).get(kid)


def parse_trust(document: Any, where: str) -> TrustSet:
    """A TrustSet from a parsed trust file; KeyFileError naming what is wrong."""
    callers = document.get("callers") if isinstance(document, dict) else None
    if not isinstance(callers, dict):
        raise KeyFileError(f"{where}: a trust file is {_TRUST_SHAPE}")
    parsed: dict[str, dict[str, Ed25519PublicKey]] = {}
    for identity, jwks in callers.items():
        keys = jwks.get("keys") if isinstance(jwks, dict) else None
        if not identity or not isinstance(keys, list):
            raise KeyFileError(f"{where}: caller {identity!r} needs a 'keys' list")
        by_kid: dict[str, Ed25519PublicKey] = {}
        for jwk in keys:
            if not isinstance(jwk, dict):
                raise KeyFileError(f"{where}: caller {identity!r} has a key that is not an object")
            kid, public = _okp_fields(jwk, f"{where}: caller {identity!r}")
            if kid in by_kid:
                raise KeyFileError(f"{where}: caller {identity!r} lists key id {kid!r} twice")
            by_kid[kid] = Ed25519PublicKey.from_public_bytes(public)
        parsed[identity] = by_kid
    return TrustSet(parsed)


def load_trust(path: Path) -> TrustSet:
    """The trust file at ``path``; KeyFileError naming what is wrong."""
    return parse_trust(_read_json(path, "trust file"), str(path))


def _write_private(path: Path, text: str) -> None:
    # Created 0600 from the start: the key is never readable by others, not even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def write_signing_key(path: Path, key: SigningKey) -> None:
    """Write ``key`` as a private JWK readable by its owner only."""
    _write_private(path, json.dumps(key.private_jwk()))


def add_to_trust(path: Path, identity: str, public_jwks: Iterable[Mapping[str, str]]) -> None:
    """Add public keys of ``identity`` to the trust file at ``path`` (created when absent)."""
    document: dict[str, Any] = {"callers": {}}
    if path.exists():
        document = _read_json(path, "trust file")
        parse_trust(document, str(path))  # refuse to extend a broken file
    keys = document["callers"].setdefault(identity, {"keys": []})["keys"]
    keys.extend(dict(j) for j in public_jwks)
    parse_trust(document, str(path))
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")


@dataclass(frozen=True)
class Keyring:
    """A directory with one private key per identity and one trust file naming them all.

    What devstack and the tests use: every service gets its own key pair, and every callee
    trusts the public keys listed here (which callers may call what is each service's policy).
    """

    directory: Path

    def key_file(self, identity: str) -> Path:
        """Where ``identity``'s private key is."""
        return self.directory / f"{identity}.key.json"

    @property
    def trust_file(self) -> Path:
        """The trust file listing every identity's public key."""
        return self.directory / TRUST_FILE_NAME

    def signing_key(self, identity: str) -> SigningKey:
        """``identity``'s private key."""
        return load_signing_key(self.key_file(identity))


def create_keyring(directory: Path, identities: Iterable[str]) -> Keyring:
    """Generate a key pair per identity in ``directory`` and the trust file naming them."""
    directory.mkdir(parents=True, exist_ok=True)
    keyring = Keyring(directory)
    keyring.trust_file.unlink(missing_ok=True)
    for identity in identities:
        key = new_signing_key(identity)
        write_signing_key(keyring.key_file(identity), key)
        add_to_trust(keyring.trust_file, identity, [key.public_jwk()])
    return keyring


def main(argv: list[str] | None = None) -> None:
    """``keygen --identity NAME --dir DIR``: a new private key and its entry in DIR/trust.json."""
    parser = argparse.ArgumentParser(prog="python -m planetkit.service_auth_keys")
    sub = parser.add_subparsers(dest="command", required=True)
    keygen = sub.add_parser("keygen", help="a new Ed25519 key for a service identity")
    keygen.add_argument("--identity", required=True, help="the service, e.g. gateway")
    keygen.add_argument("--dir", required=True, type=Path, help="where the files go")
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    key = new_signing_key(args.identity)
    key_path = args.dir / f"{args.identity}.key.json"
    if key_path.exists():
        # Rotation: keep the old private key file apart; its public key stays trusted until
        # the operator removes it from the trust file.
        key_path.rename(key_path.with_suffix(f".{secrets.token_hex(4)}.old"))
    write_signing_key(key_path, key)
    add_to_trust(args.dir / TRUST_FILE_NAME, args.identity, [key.public_jwk()])
    print(f"wrote {key_path} (kid {key.kid}) and added its public key to "
          f"{args.dir / TRUST_FILE_NAME}")


if __name__ == "__main__":
    main()
