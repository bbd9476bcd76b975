"""A partition's group state in one embedded RocksDB store (``rocksdict``, raw bytes).

Partition p's store holds the state of the groups whose id hashes to p (planet.groups.events.v1
partition p, laid out by ``domain/stored.py``) and the index of the users who hash to p
(planet.groups.member-index.v1 partition p: their groups and read positions), plus, per topic,
the next offset folded, written in the same batch as the state it produced. A restart reads
from those offsets: start-up time does not grow with history.

Besides the domain's keys (i m l r s x t), this store keeps what the reads and idempotency
need, all derived from the log alone, so a store rebuilt from offset 0 equals the live one:

    a<group>\\0<seq 8 BE>   an admin-log entry (a moderation fact: actor, target, reason)
    c<group>\\0<seq 8 BE>   a conversation change (ConversationChange: edit, deletion, pin,
                           unpin, reaction, closure), for a reconnecting reader's catch-up;
                           an edit is kept without its text (read from the message, so a
                           deleted message's words are not kept here)
    L<group>               a listed group (public and not closed): ListGroups by id
    T<topic>\\0<group>      a listed group by each of its topics
    N<name>\\0<group>       a listed group by its casefolded name's first NAME_KEY_CHARS
                           characters (name prefix search); each listing key is rewritten
                           when the group's profile, closure or visibility changes, so
                           ListGroups reads a page, never every group
    q<group>\\0<request>    what a command appended (CommandResult), by its request hash
                           (the facts' event ids carry it: ``rq.<hash>.<seq>``), kept
                           REMEMBER_MS (24 h) after the command's first fact: a retry
                           within that answers the first result; later it is a new command
    Q<at_ms 8 BE><group>\\0<request>  the same, by when: each folded fact removes up to
                           EXPIRE_PER_FACT remembered results older than REMEMBER_MS before
                           its own time (the log's times, so a rebuild removes the same)
    U<user>\\0<group>       the user is a member (member index)
    P<user>\\0<group>       the user's read position (member index; never moves back)
    ~format, ~off/<topic kind>

A store of another format, or unreadable, is deleted and rebuilt from the topics (kept
forever). To force it, stop the service and delete its data directory.
"""

from __future__ import annotations

import bisect
import heapq
import logging
import shutil
import struct
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from aiokafka.structs import ConsumerRecord
from google.protobuf.message import Message
from rocksdict import Options, Rdict, WriteBatch

from planet.groups.v1 import group_events_pb2 as ev
from planet.groups.v1 import groups_service_pb2 as rpc
from planetkit.envelope import UndecodableEvent, decode
from planetkit.topics import GROUP_EVENTS, GROUP_MEMBER_INDEX
from services.groups.domain.evolve import evolve, touched
from services.groups.domain.state import GroupInfo, Key, State, header, info_key
from services.groups.domain.stored import FORMAT, encode, key_bytes
from services.groups.domain.stored import decode as decode_state

log = logging.getLogger(__name__)
# /2: the conversation's changes (c); /3: the listing index (L T N); /4: remembered results
# by time (Q). An older store is rebuilt from the topics to have them.
STORE_FORMAT = FORMAT + b"+groups-service/4"
_FORMAT_KEY = b"~format"
EVENTS, INDEX = "events", "index"
_SEQ = struct.Struct(">Q")
# Facts the admin log shows: who did what to whom, and why.
ADMIN_FACTS: tuple[type[Message], ...] = (
    ev.GroupInfoChanged, ev.OwnershipTransferred, ev.MemberRoleChanged, ev.MemberMuted,
    ev.MemberUnmuted, ev.MemberKicked, ev.MemberBanned, ev.MemberUnbanned,
    ev.InviteLinkCreated, ev.InviteLinkRevoked, ev.JoinRequestDecided, ev.SlowModeSet,
    ev.FilterRulesSet, ev.MessageDeleted, ev.HeldMessageDecided, ev.MessagePinned,
    ev.MessageUnpinned, ev.MemberReported, ev.GroupClosed, ev.GroupCloseAppealed,
    ev.AppealDecided)
# Membership facts that put a user in or out of their "my groups" index.
_IN = (ev.MemberJoined,)
_OUT = (ev.MemberLeft, ev.MemberKicked, ev.MemberBanned)
# The ConversationChange field of each fact a catch-up reads again as a change.
CHANGE_FIELDS: dict[type[Message], str] = {
    ev.MessageEdited: "edited", ev.MessageDeleted: "deleted", ev.MessagePinned: "pinned",
    ev.MessageUnpinned: "unpinned", ev.ReactionSet: "reaction_set",
    ev.ReactionRemoved: "reaction_removed", ev.GroupClosed: "closed"}
REQUEST_PREFIX = "rq."


def _offset_key(kind: str) -> bytes:
    return b"~off/" + kind.encode()


def sub(prefix: bytes, a: str, b: bytes | str = b"") -> bytes:
    """``prefix a \\0 b``: the layout of every key this module adds."""
    return prefix + a.encode() + b"\0" + (b.encode() if isinstance(b, str) else b)


def seq_bytes(seq: int) -> bytes:
    """A seq as 8 big-endian bytes (keys sort by seq)."""
    return _SEQ.pack(seq)


def request_of(event_id: str) -> str:
    """The request hash an event id carries ("" for none)."""
    if not event_id.startswith(REQUEST_PREFIX):
        return ""
    return event_id[len(REQUEST_PREFIX):].rpartition(".")[0]


# How long a command's result is remembered for its retries (by the time of its facts).
REMEMBER_MS = 24 * 3_600_000
# Expired results one folded fact removes at most (a command adds at most one, so this keeps up).
EXPIRE_PER_FACT = 100

# How much of a casefolded name the name index keeps (a longer prefix query filters by the
# whole name; a cursor into this index stays within the gateway's 256 characters).
NAME_KEY_CHARS = 32


def name_key(name: str) -> str:
    """A name as the name index orders it."""
    return name.casefold()[:NAME_KEY_CHARS]


def listing_keys(info: State | None) -> set[bytes]:
    """The listing index's keys of a group as ``info`` describes it (none: not listed)."""
    if not isinstance(info, GroupInfo) or info.profile.private or info.closed:
        return set()
    group = info.group_id
    keys = {b"L" + group.encode(), sub(b"N", name_key(info.profile.name), group)}
    keys.update(sub(b"T", topic, group) for topic in info.profile.topics)
    return keys


def change_of(fact: Message) -> rpc.ConversationChange | None:
    """The stored form of a conversation change (None: ``fact`` is none); an edit without
    its text and mentions."""
    name = CHANGE_FIELDS.get(type(fact))
    if name is None:
        return None
    out = rpc.ConversationChange()
    getattr(out, name).CopyFrom(fact)
    if isinstance(fact, ev.MessageEdited):
        out.edited.ClearField("text")
        out.edited.ClearField("mentions")
    return out


def admin_entry(fact: Message) -> rpc.AdminLogEntry:
    """The admin-log form of a moderation fact."""
    h = header(fact)
    return rpc.AdminLogEntry(
        seq=h.seq, at_ms=h.at_ms, actor_id=h.actor_id, type=fact.DESCRIPTOR.full_name,
        user_id=str(getattr(fact, "user_id", "") or getattr(fact, "new_owner_id", "")),
        message_seq=int(getattr(fact, "message_seq", 0)),
        reason=str(getattr(fact, "reason", "") if isinstance(getattr(fact, "reason", ""), str)
                   else getattr(fact, "note", "")))


class PartitionStore:
    """The groups (events partition p) and users (index partition p) of one partition."""

    def __init__(self, path: Path, partition: int) -> None:
        self.path = path
        self.partition = partition
        self._db = _open(path)
        self.applied = {k: self._read_offset(k) for k in (EVENTS, INDEX)}

    def _read_offset(self, kind: str) -> int:
        raw = self._db.get(_offset_key(kind))
        return 0 if raw is None else int(_SEQ.unpack(raw)[0])

    # --- reads --------------------------------------------------------------------------

    def get(self, key: Key) -> State | None:
        """The domain state under ``key``."""
        raw = self._db.get(key_bytes(key))
        return None if raw is None else decode_state(key, raw)

    def reader(self, writes: dict[bytes, bytes | None]) -> Callable[[Key], State | None]:
        """``get`` over ``writes`` not stored yet (a pending fold, the writer's batch)."""
        def read(key: Key) -> State | None:
            raw = key_bytes(key)
            if raw in writes:
                value = writes[raw]
                return None if value is None else decode_state(key, value)
            return self.get(key)
        return read

    def raw(self, key: bytes) -> bytes | None:
        """A stored value by its stored key."""
        value = self._db.get(key)
        return None if value is None else bytes(value)

    def scan(self, start: bytes, prefix: bytes, limit: int,
             reverse: bool = False) -> Iterator[tuple[bytes, bytes]]:
        """Up to ``limit`` pairs under ``prefix`` from ``start`` (inclusive), either way."""
        it = self._db.iter()
        if reverse:
            it.seek_for_prev(start)
        else:
            it.seek(start)
        n = 0
        while n < limit and it.valid():
            key = bytes(it.key())
            if not key.startswith(prefix):
                return
            yield key, bytes(it.value())
            n += 1
            if reverse:
                it.prev()
            else:
                it.next()

    def request(self, group: str, request: str) -> rpc.CommandResult | None:
        """What the command with this request hash appended, if it ran."""
        raw = self._db.get(sub(b"q", group, request))
        return None if raw is None else rpc.CommandResult.FromString(raw)

    def read_seq(self, user: str, group: str) -> int:
        """The user's read position in the group (member index)."""
        raw = self._db.get(sub(b"P", user, group))
        return 0 if raw is None else int(_SEQ.unpack(raw)[0])

    # --- folds --------------------------------------------------------------------------

    def fold_facts(self, facts: Iterable[tuple[str, Message]],
                   base: dict[bytes, bytes | None] | None = None) -> dict[bytes, bytes | None]:
        """The writes ``facts`` (event id, payload) make; a fact at or below its group's
        last_seq was folded already (by the writer ahead of the tail, or before a crash).
        ``base``: writes not stored yet that come first (the writer's batch so far, read by
        its next decision; what is stored is folded again from the facts once committed)."""
        writes: dict[bytes, bytes | None] = dict(base) if base else {}
        remembered: list[bytes] = []  # Q keys this batch adds (not in the store yet)
        read = self.reader(writes)

        for event_id, fact in facts:
            h = header(fact)
            info = read(info_key(h.group_id))
            if isinstance(info, GroupInfo) and h.seq <= info.last_seq:
                continue
            for key in touched(fact):
                before = read(key)
                value = evolve(key, before, fact)
                writes[key_bytes(key)] = None if value is None else encode(value)
                if key[0] == "info":
                    listed_before, listed = listing_keys(before), listing_keys(value)
                    writes.update(dict.fromkeys(listed_before - listed))
                    writes.update(dict.fromkeys(listed - listed_before, b"1"))
            # An author deleting their own message is no moderation.
            own = isinstance(fact, ev.MessageDeleted) and fact.actor_id == fact.author_id
            if isinstance(fact, ADMIN_FACTS) and not own:
                writes[sub(b"a", h.group_id, seq_bytes(h.seq))] = (
                    admin_entry(fact).SerializeToString())
            change = change_of(fact)
            if change is not None:
                writes[sub(b"c", h.group_id, seq_bytes(h.seq))] = (
                    change.SerializeToString(deterministic=True))
            self._expire(h.at_ms - REMEMBER_MS, writes, remembered)
            request = request_of(event_id)
            if request:
                qkey = sub(b"q", h.group_id, request)
                prior = writes.get(qkey) or self._db.get(qkey)
                if not prior:
                    when = b"Q" + seq_bytes(max(h.at_ms, 0)) + qkey[1:]
                    writes[when] = b""
                    bisect.insort(remembered, when)
                result = (rpc.CommandResult.FromString(prior) if prior
                          else rpc.CommandResult(group_id=h.group_id))
                result.seqs.append(h.seq)
                if isinstance(fact, ev.MessagePosted | ev.MessageHeld) and not result.message_seq:
                    result.message_seq = h.seq
                    result.held = isinstance(fact, ev.MessageHeld)
                if isinstance(fact, ev.InviteLinkCreated):
                    result.link_id = fact.link_id
                writes[qkey] = result.SerializeToString(deterministic=True)
        return writes

    def _expire(self, cutoff: int, writes: dict[bytes, bytes | None],
                remembered: list[bytes]) -> None:
        """Forget up to EXPIRE_PER_FACT remembered results from before ``cutoff`` (ms), the
        oldest first, from the store and from this batch alike (so folding facts one batch
        at a time or many at once removes the same)."""
        if cutoff <= 0:
            return
        end = b"Q" + seq_bytes(cutoff)
        stored = (key for key, _ in self.scan(b"Q", b"Q", 1 << 62))
        removed = 0
        for key in heapq.merge(stored, remembered):
            if key >= end or removed == EXPIRE_PER_FACT:
                return
            if key in writes and writes[key] is None:
                continue  # removed earlier in this batch
            writes[key] = None
            writes[b"q" + key[1 + _SEQ.size:]] = None
            removed += 1

    def write(self, writes: dict[bytes, bytes | None], kind: str | None = None,
              next_offset: int = 0) -> None:
        """Store ``writes`` (and, from the tail, the next offset of ``kind``) in one batch."""
        batch = WriteBatch(raw_mode=True)
        for key, value in writes.items():
            if value is None:
                batch.delete(key)
            else:
                batch.put(key, value)
        if kind is not None:
            batch.put(_offset_key(kind), _SEQ.pack(next_offset))
        self._db.write(batch)
        if kind is not None:
            self.applied[kind] = next_offset

    def apply(self, kind: str, records: Iterable[ConsumerRecord[bytes, bytes]]) -> int:
        """Fold one fetch of the events or index partition, with its next offset."""
        decoded: list[tuple[str, Message]] = []
        last = -1
        for record in records:
            last = record.offset
            if record.value is None:
                continue
            try:
                event = decode(record.value, *(GROUP_EVENTS if kind == EVENTS
                                               else GROUP_MEMBER_INDEX).payloads)
            except UndecodableEvent as exc:
                # Only this service writes these topics: a bug to look at, never silently
                # lost (the record stays in the log).
                log.error("skipping undecodable record", extra={
                    "topic": record.topic, "partition": record.partition,
                    "offset": record.offset, "reason": str(exc)})
                continue
            # The index is keyed by user: its Kafka key names whose copy a record is.
            ident = (event.envelope.event_id if kind == EVENTS
                     else (record.key or b"").decode())
            decoded.append((ident, event.payload))
        if last < 0:
            return 0
        writes = self.fold_facts(decoded) if kind == EVENTS else self.fold_index(decoded)
        self.write(writes, kind, last + 1)
        return len(decoded)

    def fold_index(self, copies: list[tuple[str, Message]]) -> dict[bytes, bytes | None]:
        """The member index (user, fact): "my groups" and read positions. Replayed in log
        order, so folding from the stored offset again gives the same index."""
        writes: dict[bytes, bytes | None] = {}
        for user, fact in copies:
            group = header(fact).group_id
            if isinstance(fact, ev.ReadPositionSet):
                key = sub(b"P", user, group)
                prior = writes.get(key) or self._db.get(key)
                before = 0 if prior is None else int(_SEQ.unpack(prior)[0])
                writes[key] = _SEQ.pack(max(before, fact.read_seq))
            elif isinstance(fact, _IN):
                writes[sub(b"U", user, group)] = b"1"
            elif isinstance(fact, _OUT):
                writes[sub(b"U", user, group)] = None
        return writes

    def reset(self) -> None:
        """Delete the store and start empty (rebuilt from offset 0 by the tail)."""
        self._db.close()
        shutil.rmtree(self.path, ignore_errors=True)
        self._db = _open(self.path)
        self.applied = dict.fromkeys((EVENTS, INDEX), 0)

    def close(self) -> None:
        """Flush and close."""
        self._db.close()


def _open(path: Path) -> Rdict:
    """Open (or create) a store; delete and recreate one that is unreadable or foreign."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        db = _open_raw(path)
        fmt = db.get(_FORMAT_KEY)
        if fmt == STORE_FORMAT:
            return db
        if fmt is None and db.get(_offset_key(EVENTS)) is None and db.get(
                _offset_key(INDEX)) is None:
            db.put(_FORMAT_KEY, STORE_FORMAT)
            return db
        db.close()
        reason = f"format {fmt!r}, expected {STORE_FORMAT!r}"
    except Exception as exc:  # RocksDB reports corruption as a bare Exception
        reason = f"unreadable: {exc}"
    log.warning("rebuilding group store from the topics",
                extra={"path": str(path), "reason": reason})
    shutil.rmtree(path, ignore_errors=True)
    db = _open_raw(path)
    db.put(_FORMAT_KEY, STORE_FORMAT)
    return db


def _open_raw(path: Path) -> Rdict:
    options = Options(raw_mode=True)
    options.create_if_missing(True)
    return Rdict(str(path), options)


class Stores:
    """One store per partition under one directory."""

    def __init__(self, root: Path, partitions: int) -> None:
        self.root = root / "groups"
        self.partitions = partitions
        self._open = {p: PartitionStore(self.root / f"p{p}", p) for p in range(partitions)}

    def store(self, partition: int) -> PartitionStore:
        """The store of ``partition``."""
        return self._open[partition]

    def all(self) -> list[PartitionStore]:
        """Every partition's store."""
        return list(self._open.values())

    def close(self) -> None:
        """Close every store."""
        for store in self._open.values():
            store.close()
