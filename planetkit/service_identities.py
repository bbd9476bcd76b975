"""The identities Planet services sign and address their calls with (``iss`` and ``aud``).

A callee's identity can be renamed in its settings (and the caller's matching setting); a
caller's identity is what the callees' policies name, so it is fixed here.
"""

from __future__ import annotations

GATEWAY = "gateway"
CONTENT = "content"
INCENTIVE = "incentive"
ANALYTICS = "analytics"

# Every service that holds a key pair (devstack and tests generate one for each).
ALL = (GATEWAY, CONTENT, INCENTIVE, ANALYTICS)
