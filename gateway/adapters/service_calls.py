"""Signing the gateway's gRPC calls: one fresh assertion per call, for the verified user."""

from __future__ import annotations

from gateway.auth import Principal
from planetkit.service_auth_assertion import AssertionSigner


class CallSigner:
    """Call metadata for one callee, naming the user each call is made for."""

    def __init__(self, signer: AssertionSigner, audience: str) -> None:
        self._signer = signer
        self._audience = audience

    def metadata(self, caller: Principal) -> tuple[tuple[str, str]]:
        """Metadata with an assertion minted now (never reused: it lives seconds)."""
        return self._signer.metadata(self._audience, caller.user_id, caller.roles)
