"""The client's IP address, believing X-Forwarded-For only from configured proxies.

Anyone can send an X-Forwarded-For header. Only a hop we trust (a configured proxy) may
tell us who is behind it, so the chain is walked from the nearest hop outwards and stops
at the first address that is not a trusted proxy: that is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> list[Network]:
    """Trusted-proxy settings (addresses or CIDRs) as networks."""
    return [ipaddress.ip_network(e, strict=False) for e in entries]


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client_ip(peer: str | None, forwarded_for: list[str], proxies: Sequence[Network]) -> str:
    """The address to hold responsible: ``peer``, or what trusted proxies say is behind it.

    ``forwarded_for`` holds every X-Forwarded-For header value in arrival order.
    """
    current = peer or "unknown"
    hops = [h.strip() for value in forwarded_for for h in value.split(",")]
    for hop in reversed(hops):
        if not _trusted(current, proxies):
            break
        try:
            current = str(ipaddress.ip_address(hop))
        except ValueError:
            break  # garbage from beyond the last proxy we trust: stop at that proxy
    return current
