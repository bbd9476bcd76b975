"""InteractionService over grpc.aio (served beside ContentService on the same port), its part
of the method policy, and the client that forwards a call to the owner replica.

Writes (comment, edit, delete, like, unlike, share) are made for the end user the call is
made for: ``user_id`` must be that user. The gateway calls them for its users, and content
forwards them, for the same user, to the replica that owns the post. A thread and an item's
counts are public, like the post: any trusted caller reads them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import grpc

from planet.content.v1 import interactions_pb2 as pb
from planet.content.v1 import interactions_pb2_grpc as pb_grpc
from planetkit.grpc_health import abort as _abort
from planetkit.service_auth import Caller, current_caller
from planetkit.service_auth_assertion import AssertionSigner
from planetkit.service_auth_server import ANY_TRUSTED_CALLER, MethodPolicy, method_name
from planetkit.service_identities import CONTENT, GATEWAY
from services.content.adapters.forwarding import ForwardingPeers
from services.content.adapters.peers import PeerFailed
from services.content.domain.errors import (
    EventLogUnavailable,
    IdentityCheckUnavailable,
    NotServing,
)
from services.content.domain.interactions import (
    InteractionNotFound,
    InteractionRefused,
    InvalidInteraction,
    ThreadTooDeep,
)
from services.content.domain.interactions_layout import (
    ThreadCursor,
    decode_cursor,
    page_limit,
)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["InteractionService"].full_name
WRITES = ("PostComment", "EditComment", "DeleteComment", "Like", "Unlike", "Share")
READS = ("ListComments", "GetItemStats")
INTERACTIONS_POLICY: MethodPolicy = {
    **{method_name(SERVICE_NAME, m): frozenset({GATEWAY, CONTENT}) for m in WRITES},
    **{method_name(SERVICE_NAME, m): frozenset({ANY_TRUSTED_CALLER}) for m in READS},
}

Context = grpc.aio.ServicerContext[Any, Any]
T = TypeVar("T")
log = logging.getLogger(__name__)


class InteractionUseCases(Protocol):
    """What the servicer calls (services.content.interactions.InteractionHandlers)."""

    async def post_comment(self, request: pb.PostCommentRequest, caller: Caller) -> pb.Comment:
        """Comment or reply."""

    async def edit_comment(self, request: pb.EditCommentRequest, caller: Caller) -> pb.Comment:
        """Edit one's own comment."""

    async def delete_comment(self, request: pb.DeleteCommentRequest, caller: Caller
                             ) -> pb.DeleteCommentResponse:
        """Delete one's own comment."""

    async def list_comments(self, request: pb.ListCommentsRequest, after: ThreadCursor | None,
                            limit: int, caller: Caller) -> pb.ListCommentsResponse:
        """A page of a thread."""

    async def like(self, request: pb.LikeRequest, caller: Caller, *, on: bool) -> pb.LikeState:
        """Like or unlike."""

    async def share(self, request: pb.ShareRequest, caller: Caller) -> pb.ShareView:
        """Share a post."""

    async def item_stats(self, item_id: str, caller: Caller) -> pb.ItemStats:
        """An item's counts."""


async def _run(context: Context, call: Callable[[], Awaitable[T]]) -> T:
    """Await ``call``; a refusal aborts the RPC with its status and message."""
    try:
        return await call()
    except InvalidInteraction as exc:
        await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
    except InteractionNotFound as exc:
        await _abort(context, grpc.StatusCode.NOT_FOUND, str(exc))
    except InteractionRefused as exc:
        await _abort(context, grpc.StatusCode.PERMISSION_DENIED, str(exc))
    except ThreadTooDeep as exc:
        await _abort(context, grpc.StatusCode.OUT_OF_RANGE, str(exc))
    except (EventLogUnavailable, NotServing, IdentityCheckUnavailable) as exc:
        await _abort(context, grpc.StatusCode.UNAVAILABLE, str(exc))
    except PeerFailed as exc:
        await _abort(context, exc.code, exc.details)
    raise AssertionError("unreachable: abort raises")


def _for_user(user_id: str) -> Caller:
    """The caller, when the call is made for ``user_id``; InteractionRefused otherwise."""
    caller = current_caller()
    if not caller.user_id or caller.user_id != user_id:
        raise InteractionRefused(
            "an interaction is made only by its user: user_id must be the end user the call "
            "is made for")
    return caller


class InteractionServicer(pb_grpc.InteractionServiceServicer):
    """Translates RPCs to use-case calls and refusals to status codes."""

    def __init__(self, handlers: InteractionUseCases) -> None:
        self._handlers = handlers

    async def PostComment(self, request: pb.PostCommentRequest, context: Context
                          ) -> pb.Comment:
        """Comment on a post, or reply to one of its comments."""
        return await _run(context, lambda: self._handlers.post_comment(
            request, _for_user(request.user_id)))

    async def EditComment(self, request: pb.EditCommentRequest, context: Context
                          ) -> pb.Comment:
        """Replace one's own comment's text."""
        return await _run(context, lambda: self._handlers.edit_comment(
            request, _for_user(request.user_id)))

    async def DeleteComment(self, request: pb.DeleteCommentRequest, context: Context
                            ) -> pb.DeleteCommentResponse:
        """Delete one's own comment."""
        return await _run(context, lambda: self._handlers.delete_comment(
            request, _for_user(request.user_id)))

    async def ListComments(self, request: pb.ListCommentsRequest, context: Context
                           ) -> pb.ListCommentsResponse:
        """A page of a post's thread or of one comment's replies."""
        async def call() -> pb.ListCommentsResponse:
            after = decode_cursor(request.cursor)
            limit = page_limit(request.limit)
            if request.order not in pb.CommentOrder.values():
                raise InvalidInteraction("order must be NEWEST or OLDEST")
            return await self._handlers.list_comments(request, after, limit, current_caller())
        return await _run(context, call)

    async def Like(self, request: pb.LikeRequest, context: Context) -> pb.LikeState:
        """Like an item (once per user)."""
        return await _run(context, lambda: self._handlers.like(
            request, _for_user(request.user_id), on=True))

    async def Unlike(self, request: pb.LikeRequest, context: Context) -> pb.LikeState:
        """Take a like back."""
        return await _run(context, lambda: self._handlers.like(
            request, _for_user(request.user_id), on=False))

    async def Share(self, request: pb.ShareRequest, context: Context) -> pb.ShareView:
        """Share (repost) a post with an optional quote."""
        return await _run(context, lambda: self._handlers.share(
            request, _for_user(request.user_id)))

    async def GetItemStats(self, request: pb.GetItemStatsRequest, context: Context
                           ) -> pb.ItemStats:
        """An item's exact counts."""
        return await _run(context, lambda: self._handlers.item_stats(
            request.item_id, current_caller()))


# What the owner said about the request itself passes through; anything about reaching it
# (down, slow, moving) is UNAVAILABLE, which callers retry.
_PASSED_THROUGH = frozenset({
    grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.NOT_FOUND, grpc.StatusCode.OUT_OF_RANGE,
})


class InteractionPeersClient(ForwardingPeers):
    """Forwards InteractionService calls to the replica owning the post (adapters/forwarding.py)."""

    def __init__(self, signer: AssertionSigner | None, audience: str, timeout_s: float) -> None:
        super().__init__(signer, audience, timeout_s, pb_grpc.InteractionServiceStub,
                         _PASSED_THROUGH)


def add_interactions(server: grpc.aio.Server, handlers: InteractionUseCases) -> None:
    """Serve InteractionService on ``server`` (its policy is in INTERACTIONS_POLICY)."""
    pb_grpc.add_InteractionServiceServicer_to_server(InteractionServicer(handlers), server)


class PostStats(Protocol):
    """Where a post's counts come from (services.content.interactions.InteractionHandlers)."""

    async def item_stats(self, item_id: str, caller: Caller) -> pb.ItemStats:
        """The item's exact counts (asked of its owner when not here)."""


async def with_stats(posts: list[T], stats: PostStats | None, caller: Caller) -> list[T]:
    """``posts`` (content Post messages) with their ``stats`` filled in, asked concurrently.

    A post whose counts cannot be had now (its partition is moving, its owner is slow) is
    returned without them: ``stats`` unset means "unknown", never zero, and the post itself
    stays readable.
    """
    if stats is None or not posts:
        return posts

    async def one(post: Any) -> None:
        try:
            post.stats.CopyFrom(await stats.item_stats(post.post_id, caller))
        except (NotServing, PeerFailed, InvalidInteraction) as exc:
            log.warning("post counts unavailable", extra={"post_id": post.post_id,
                                                          "reason": str(exc)[:200]})

    await asyncio.gather(*(one(p) for p in posts))
    return posts
