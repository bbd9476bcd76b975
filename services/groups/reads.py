"""The reads (GetGroup, ListGroups, ListMembers, History, AdminLog, Unread, ResolveGroupItems)
from the stores.

Every read decides what the caller may see with the domain's rules: a private group tells a
non-member nothing (not_found, as commands do; operators read it), and each message passes
``audience.visible`` as the fact that made it (a held message: its author and the members
holding the delete right; a deleted one: a tombstone without text).
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from google.protobuf.message import Message

from planet.groups.v1 import group_events_pb2 as ev
from planet.groups.v1 import groups_service_pb2 as rpc
from planetkit.kafka.partitioning import partition_for
from services.groups.adapters.store import PartitionStore, Stores, name_key, seq_bytes, sub
from services.groups.domain import rights as r
from services.groups.domain.audience import visible
from services.groups.domain.refusals import Code, Refusal
from services.groups.domain.state import (
    GroupInfo,
    Membership,
    MessageRecord,
    info_key,
    member_key,
    message_key,
    nobody,
)
from services.groups.domain.stored import decode, key_from_bytes

MAX_GROUPS_PAGE = 100
# Index entries one ListGroups call reads per partition at most (a topic and a name prefix
# together: the name index is read, the topic filters).
LIST_SCAN_BUDGET = 2_000
MAX_MEMBERS_PAGE = 200
MAX_HISTORY_SIDE = 100
MAX_ADMIN_PAGE = 100
# Unread counts stop here ("1000+" in a client): a count never scans more of the history.
MAX_UNREAD = 1000
MAX_UNREAD_GROUPS = 500
# Group items one telemetry batch may name (the gateway's batch limit is far lower).
MAX_RESOLVE_GROUPS = 500
# Invisible messages (held, rejected, released) a history page may skip over.
_SCAN_SLACK = 1000


class Reads:
    """Answers from the partition stores (``ready`` raises while restoring)."""

    def __init__(self, stores: Stores, partitions: int, ready: Callable[[], None],
                 clock_ms: Callable[[], int]) -> None:
        self._stores = stores
        self._partitions = partitions
        self._ready = ready
        self._clock_ms = clock_ms

    def _store(self, key: str) -> PartitionStore:
        return self._stores.store(partition_for(key, self._partitions))

    def _group(self, group: str, actor: str, operator: bool
               ) -> tuple[PartitionStore, GroupInfo, Membership] | Refusal:
        """The group and the caller's membership, or not_found for what they may not see."""
        self._ready()
        store = self._store(group)
        info = store.get(info_key(group))
        found = store.get(member_key(group, actor))
        viewer = found if isinstance(found, Membership) else nobody(group, actor)
        if not isinstance(info, GroupInfo) or (
                info.profile.private and not viewer.is_member and not operator):
            return Refusal(Code.NOT_FOUND, "no such group")
        return store, info, viewer

    def view(self, info: GroupInfo, viewer: Membership) -> rpc.GroupView:
        """A group as ``viewer`` sees it."""
        out = rpc.GroupView(
            group_id=info.group_id, profile=info.profile.pb(), owner_id=info.owner_id,
            member_count=info.member_count, slow_mode_s=info.slow_mode_s,
            pinned=list(info.pinned), last_seq=info.last_seq, closed=info.closed,
            closed_reason=info.closed_reason, caller_role=viewer.role)
        if viewer.role == r.OWNER:
            out.closed_note = info.closed_note
        if viewer.role in r.STAFF:
            out.filter_rules.extend(f.pb() for f in info.filters)
        return out

    def get_group(self, group: str, actor: str, operator: bool) -> rpc.GroupView | Refusal:
        """GetGroup."""
        found = self._group(group, actor, operator)
        if isinstance(found, Refusal):
            return found
        _, info, viewer = found
        return self.view(info, viewer)

    def list_groups(self, req: rpc.ListGroupsRequest) -> rpc.GroupPage:
        """Listed groups (public, open) from the listing index (``adapters/store.py``): by
        name when a name prefix is given (casefolded), else by id (of a topic, when given).
        Each partition's index is read from the cursor for at most a page of matches (and
        LIST_SCAN_BUDGET entries when a second filter skips some), so a call costs a page per
        partition whatever the number of groups. A page may come back short with a
        next_cursor when a partition's budget ran out: follow it."""
        self._ready()
        limit = min(req.limit or 20, MAX_GROUPS_PAGE)
        prefix = req.name_prefix.casefold()
        if prefix:
            head = b"N" + name_key(prefix).encode()
            if req.cursor.startswith("n."):
                try:
                    after = b"N" + base64.urlsafe_b64decode(req.cursor[2:].encode())
                except ValueError:
                    return rpc.GroupPage()
            elif req.cursor:
                return rpc.GroupPage()  # another listing's cursor
            else:
                after = b""
        else:
            head = sub(b"T", req.topic) if req.topic else b"L"
            after = head + req.cursor.encode() if req.cursor else b""
        start = max(head, after + b"\0") if after else head
        found: list[tuple[bytes, GroupInfo]] = []
        bound: bytes | None = None  # where an exhausted budget stopped a partition's scan
        for store in self._stores.all():
            matches = 0
            for scanned, (key, _) in enumerate(
                    store.scan(start, head, LIST_SCAN_BUDGET), start=1):
                group = key.rpartition(b"\0")[2] if key[:1] in b"TN" else key[1:]
                info = store.get(info_key(group.decode()))
                if isinstance(info, GroupInfo) and self._listed(info, req.topic, prefix):
                    found.append((key, info))
                    matches += 1
                if matches > limit:
                    break
                if scanned == LIST_SCAN_BUDGET:
                    bound = key if bound is None else min(bound, key)
        if bound is not None:
            found = [f for f in found if f[0] <= bound]
        found.sort(key=lambda f: f[0])
        page = found[:limit]
        out = rpc.GroupPage(groups=[self.view(i, nobody(i.group_id, req.actor_id))
                                    for _, i in page])
        last = page[-1][0] if len(found) > limit else bound
        if last is not None:
            out.next_cursor = ("n." + base64.urlsafe_b64encode(last[1:]).decode() if prefix
                               else last[len(head):].decode())
        return out

    @staticmethod
    def _listed(info: GroupInfo, topic: str, prefix: str) -> bool:
        """``info`` passes the filters (the index chose by one of them)."""
        if info.profile.private or info.closed:
            return False
        if topic and topic not in info.profile.topics:
            return False
        return not prefix or info.profile.name.casefold().startswith(prefix)

    def list_members(self, req: rpc.ListMembersRequest, operator: bool
                     ) -> rpc.MemberPage | Refusal:
        """Members by user id (members and operators only)."""
        found = self._group(req.group_id, req.actor_id, operator)
        if isinstance(found, Refusal):
            return found
        store, _, viewer = found
        if not viewer.is_member and not operator:
            return Refusal(Code.NOT_MEMBER, "only members see the member list")
        limit = min(req.limit or 50, MAX_MEMBERS_PAGE)
        prefix = sub(b"m", req.group_id)
        start = prefix + req.cursor.encode() + b"\0" if req.cursor else prefix
        out = rpc.MemberPage()
        staff = viewer.role in r.STAFF or operator
        last = ""
        for key, raw in store.scan(start, prefix, 100_000):
            m = decode(key_from_bytes(key), raw)
            if not isinstance(m, Membership) or not m.is_member:
                continue
            if len(out.members) == limit:
                out.next_cursor = last
                break
            out.members.append(rpc.MemberView(
                user_id=m.user_id, role=m.role, rights=sorted(m.rights),
                muted_until_ms=m.muted_until_ms if staff else 0, joined_at_ms=m.joined_at_ms))
            last = m.user_id
        return out

    def _shown(self, m: MessageRecord, viewer: Membership, private: bool,
               store: PartitionStore) -> rpc.MessageView | None:
        """The message as the viewer may see it (audience.visible on the fact behind it)."""
        if m.rejected or m.released_as:
            return None
        fact: Message = (ev.MessageHeld(group_id=m.group_id, seq=m.seq, actor_id=m.author_id)
                         if m.held else
                         ev.MessagePosted(group_id=m.group_id, seq=m.seq, actor_id=m.author_id))
        if visible(fact, viewer, private) is None:
            return None
        out = rpc.MessageView(seq=m.seq, author_id=m.author_id, at_ms=m.at_ms,
                              reply_to=m.reply_to, announcement=m.announcement,
                              edited_at_ms=m.edited_at_ms, deleted=m.deleted, held=m.held)
        if not m.deleted:
            out.text = m.text
            out.mentions.extend(m.mentions)
            out.attachments.extend(m.attachment_pbs())
            prefix = sub(b"x", m.group_id, seq_bytes(m.seq))
            for key, raw in store.scan(prefix, prefix, 100_000):
                for emoji in getattr(decode(key_from_bytes(key), raw), "emojis", ()):
                    out.reactions[emoji] = out.reactions.get(emoji, 0) + 1
        return out

    def history(self, req: rpc.HistoryRequest, operator: bool) -> rpc.HistoryPage | Refusal:
        """Messages around ``around_seq`` (0: the newest), both ways, oldest first."""
        found = self._group(req.group_id, req.actor_id, operator)
        if isinstance(found, Refusal):
            return found
        store, info, viewer = found
        if viewer.banned and not viewer.is_member:
            return Refusal(Code.BANNED, "you are banned from this group")
        if operator and not viewer.is_member:
            viewer = Membership(req.group_id, req.actor_id, role=r.MEMBER)
        private = info.profile.private
        before = min(req.before, MAX_HISTORY_SIDE)
        after = min(req.after, MAX_HISTORY_SIDE)
        around = req.around_seq or info.last_seq + 1
        prefix = sub(b"s", req.group_id)

        def side(start: int, want: int, reverse: bool) -> tuple[list[rpc.MessageView], bool]:
            views: list[rpc.MessageView] = []
            if start < 1:
                return views, False
            for key, raw in store.scan(prefix + seq_bytes(start), prefix,
                                       want + _SCAN_SLACK, reverse=reverse):
                m = decode(key_from_bytes(key), raw)
                if not isinstance(m, MessageRecord):
                    continue
                shown = self._shown(m, viewer, private, store)
                if shown is None:
                    continue
                if len(views) == want:
                    return views, True
                views.append(shown)
            return views, False

        older, has_before = side(around - 1, before, True)
        newer, has_after = side(around, after + (1 if req.around_seq else 0), False)
        older.reverse()
        page = rpc.HistoryPage(has_before=has_before, has_after=has_after,
                               last_seq=info.last_seq)
        if req.with_changes and req.around_seq:
            through = newer[-1].seq if has_after and newer else info.last_seq
            changes, through = self._changes(store, viewer, private, req.around_seq, through,
                                             max(after, 1))
            if any(m.seq > through for m in newer):
                newer = [m for m in newer if m.seq <= through]
                page.has_after = True
            page.changes.extend(changes)
            page.through_seq = through
        page.messages.extend(older + newer)
        return page

    def _changes(self, store: PartitionStore, viewer: Membership, private: bool, start: int,
                 through: int, want: int) -> tuple[list[rpc.ConversationChange], int]:
        """The conversation changes from ``start`` to ``through`` the viewer may see, at most
        ``want`` (then ``through`` comes down to the last one returned, as it does when the
        scan's bound stops first), each through ``audience.visible`` and the visibility of
        the message it is about."""
        group = viewer.group_id
        prefix = sub(b"c", group)
        out: list[rpc.ConversationChange] = []
        bound = want + _SCAN_SLACK
        for scanned, (key, raw) in enumerate(store.scan(prefix + seq_bytes(start), prefix,
                                                        bound), start=1):
            seq = int.from_bytes(key[len(prefix):], "big")
            if seq > through:
                return out, through
            if len(out) == want:
                return out, seq - 1
            change = rpc.ConversationChange.FromString(raw)
            shown = self._change_shown(change, viewer, private, store)
            if shown is not None:
                out.append(shown)
            if scanned == bound:
                return out, seq
        return out, through

    def _change_shown(self, change: rpc.ConversationChange, viewer: Membership, private: bool,
                      store: PartitionStore) -> rpc.ConversationChange | None:
        """``change`` as the viewer may see it: the fact through ``audience.visible``, about a
        message the viewer may see (an edit with the message's current words; none once the
        message is deleted)."""
        name = change.WhichOneof("change")
        if name is None:
            return None
        fact = visible(getattr(change, name), viewer, private)
        if fact is None:
            return None
        out = rpc.ConversationChange()
        getattr(out, name).CopyFrom(fact)
        message_seq = int(getattr(fact, "message_seq", 0))
        if message_seq:
            m = store.get(message_key(viewer.group_id, message_seq))
            if not isinstance(m, MessageRecord) or m.rejected or m.released_as:
                return None
            if m.held and visible(ev.MessageHeld(group_id=m.group_id, seq=m.seq,
                                                 actor_id=m.author_id), viewer, private) is None:
                return None
            if isinstance(fact, ev.MessageEdited):
                if m.deleted:
                    return None
                out.edited.text = m.text
                out.edited.mentions.extend(m.mentions)
        return out

    def resolve_group_items(self, req: rpc.ResolveGroupItemsRequest
                            ) -> rpc.ResolveGroupItemsResponse | Refusal:
        """The owner of each group ``actor_id`` may read now (History's rule, never an
        operator's pass: an operator reading a group is no engagement), for telemetry: a
        reader's dwell is credited to the group's owner. Others are left out."""
        if len(req.group_ids) > MAX_RESOLVE_GROUPS:
            return Refusal(Code.INVALID, f"at most {MAX_RESOLVE_GROUPS} groups at once")
        out = rpc.ResolveGroupItemsResponse()
        for group in dict.fromkeys(req.group_ids):
            found = self._group(group, req.actor_id, operator=False)
            if isinstance(found, Refusal):
                continue
            _, info, viewer = found
            if viewer.banned and not viewer.is_member:
                continue
            out.owners[group] = info.owner_id
        return out

    def admin_log(self, req: rpc.AdminLogRequest, operator: bool) -> rpc.AdminLogPage | Refusal:
        """Moderation facts, newest first (staff and operators)."""
        found = self._group(req.group_id, req.actor_id, operator)
        if isinstance(found, Refusal):
            return found
        store, info, viewer = found
        if viewer.role not in r.STAFF and not operator:
            return Refusal(Code.FORBIDDEN, "only the group's staff read its admin log")
        limit = min(req.limit or 50, MAX_ADMIN_PAGE)
        prefix = sub(b"a", req.group_id)
        start = prefix + seq_bytes((req.before_seq or info.last_seq + 1) - 1)
        out = rpc.AdminLogPage()
        for _, raw in store.scan(start, prefix, limit + 1, reverse=True):
            entry = rpc.AdminLogEntry.FromString(raw)
            if len(out.entries) == limit:
                out.next_before_seq = out.entries[-1].seq
                break
            out.entries.append(entry)
        return out

    def unread(self, req: rpc.UnreadRequest) -> rpc.UnreadPage:
        """Per group: visible messages after the caller's read position (at most 1000)."""
        self._ready()
        me = req.actor_id
        user_store = self._store(me)
        groups = list(req.group_ids)[:MAX_UNREAD_GROUPS]
        if not groups:
            prefix = sub(b"U", me)
            groups = [key[len(prefix):].decode()
                      for key, _ in user_store.scan(prefix, prefix, MAX_UNREAD_GROUPS)]
        out = rpc.UnreadPage()
        for group in groups:
            found = self._group(group, me, False)
            if isinstance(found, Refusal) or not found[2].is_member:
                continue
            store, info, viewer = found
            read_seq = user_store.read_seq(me, group)
            count = rpc.UnreadCount(group_id=group, read_seq=read_seq, last_seq=info.last_seq)
            prefix = sub(b"s", group)
            for key, raw in store.scan(prefix + seq_bytes(read_seq + 1), prefix,
                                       MAX_UNREAD + _SCAN_SLACK):
                m = decode(key_from_bytes(key), raw)
                if not isinstance(m, MessageRecord) or m.deleted or m.author_id == me:
                    continue
                if self._shown(m, viewer, info.profile.private, store) is None:
                    continue
                count.unread += 1
                count.mentions += me in m.mentions
                if count.unread >= MAX_UNREAD:
                    break
            out.groups.append(count)
        return out
