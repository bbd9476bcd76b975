"""How a partition's accounts and handles are laid out in its key-value store (pure).

One key per account (its whole AccountState: identity, KYC, sanctions) and one per handle;
``~applied/<source>`` is the next offset of that source topic's partition, written in the
same write batch as the state it covers, so state and position never disagree.
"""

from __future__ import annotations

import struct

FORMAT = b"social-accounts/1"
FORMAT_KEY = b"~format"
_APPLIED = b"~applied/"
_ACCOUNT = b"u:"
_HANDLE = b"h:"
_OFFSET = struct.Struct(">q")

# The source topics a partition store follows (the same partition number of each).
IDENTITIES = "identities"
HANDLES = "handles"
KYC = "kyc"
SOURCES = (IDENTITIES, HANDLES, KYC)


def account_key(user_id: str) -> bytes:
    """Where an account's state is kept."""
    return _ACCOUNT + user_id.encode()


def handle_key(handle: str) -> bytes:
    """Where a handle's record is kept."""
    return _HANDLE + handle.encode()


def applied_key(source: str) -> bytes:
    """Where the next offset to read of ``source`` is kept."""
    return _APPLIED + source.encode()


def offset_value(offset: int) -> bytes:
    """The stored form of an offset."""
    return _OFFSET.pack(offset)


def offset_from_value(value: bytes) -> int:
    """An offset as stored; ValueError when the bytes are not one."""
    if len(value) != _OFFSET.size:
        raise ValueError(f"an offset is {_OFFSET.size} bytes, got {len(value)}")
    (offset,) = _OFFSET.unpack(value)
    if offset < 0:
        raise ValueError(f"negative offset {offset}")
    return int(offset)
