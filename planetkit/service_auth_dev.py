"""Service keys for local stacks and tests: a fresh key pair per service in a directory.

Nothing here is used in production: there the keys come from Secrets (deploy/k8s/README.md).
devstack and the test harnesses generate keys at start, so no key is ever in the repository.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from planetkit.service_auth_assertion import AssertionSigner, ServiceAuthSettings
from planetkit.service_auth_client import SigningInterceptor
from planetkit.service_auth_keys import Keyring, create_keyring
from planetkit.service_identities import ALL, GATEWAY

KEY_FILE_ENV = "PLANET_SERVICE_AUTH_KEY_FILE"
TRUST_FILE_ENV = "PLANET_SERVICE_AUTH_TRUST_FILE"


@dataclass(frozen=True)
class DevServiceAuth:
    """A keyring with every Planet identity, and the settings and signers that use it."""

    keyring: Keyring

    @classmethod
    def create(cls, directory: Path, identities: Iterable[str] = ALL) -> DevServiceAuth:
        """New key pairs for ``identities`` in ``directory`` (replacing what was there)."""
        return cls(create_keyring(directory, identities))

    def settings(self, identity: str) -> ServiceAuthSettings:
        """What ``identity`` runs with: its own key and the trust file."""
        return ServiceAuthSettings(key_file=self.keyring.key_file(identity),
                                   trust_file=self.keyring.trust_file)

    def env(self, identity: str) -> dict[str, str]:
        """The same, as environment variables for a subprocess."""
        return {KEY_FILE_ENV: str(self.keyring.key_file(identity)),
                TRUST_FILE_ENV: str(self.keyring.trust_file)}

    def signer(self, identity: str = GATEWAY, lifetime_s: float = 30.0) -> AssertionSigner:
        """Signs calls as ``identity`` (the gateway unless told otherwise)."""
        return AssertionSigner(identity, self.keyring.signing_key(identity), lifetime_s)

    def metadata(
        self, audience: str, user_id: str, roles: Iterable[str] = (), *, as_: str = GATEWAY
    ) -> tuple[tuple[str, str]]:
        """Call metadata for one call to ``audience`` made by ``as_`` for ``user_id``."""
        return self.signer(as_).metadata(audience, user_id, roles)

    def interceptor(
        self, audience: str, user_id: str = "", roles: Iterable[str] = (), *, as_: str = GATEWAY
    ) -> SigningInterceptor:
        """A channel interceptor signing every call to ``audience`` as ``as_`` for ``user_id``."""
        return SigningInterceptor(self.signer(as_), audience, user_id, roles)
