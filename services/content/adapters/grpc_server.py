"""ContentService over grpc.aio, plus the standard health service.

Every call is authenticated by ``planetkit.service_auth_server`` (the calling service signs
an assertion per call); this module says which caller services may call which method and
checks the end user itself: a post is published only for the user the call is made for.
Content itself may call PublishPost and ResolveAuthors: a replica forwards them, for the
same end user, to the replica that owns the post's partition. GetPost and ListAuthorPosts
are open to any trusted caller (posts and a creator's list of them are public), content's
forwarded reads included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import grpc
from grpc_health.v1 import health_pb2_grpc

from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1 import content_service_pb2_grpc as rpc_grpc
from planetkit.grpc_health import Health
from planetkit.grpc_health import abort as _abort
from planetkit.service_auth import Caller, current_caller
from planetkit.service_auth_assertion import AssertionVerifier
from planetkit.service_auth_server import (
    ANY_TRUSTED_CALLER,
    MethodPolicy,
    authenticating_server,
    method_name,
)
from planetkit.service_identities import CONTENT, GATEWAY
from services.content.adapters.grpc_drafts import DRAFTS_POLICY
from services.content.adapters.grpc_interactions import INTERACTIONS_POLICY, PostStats, with_stats
from services.content.adapters.grpc_lifecycle import LIFECYCLE_POLICY
from services.content.adapters.grpc_moderation import REPORT_POLICY
from services.content.adapters.grpc_topics import TOPIC_POLICY
from services.content.adapters.peers import PeerFailed
from services.content.domain.author_index import Cursor, InvalidPage, decode_cursor, page_limit
from services.content.domain.codec import command_from_request, post_to_pb
from services.content.domain.commands import PublishPost
from services.content.domain.errors import (
    EventLogUnavailable,
    IdentityCheckUnavailable,
    NotPublisher,
    NotServing,
)
from services.content.domain.model import Post, Published
from services.content.domain.post_rules import visible_to
from services.content.domain.validation import MAX_ID_CHARS, InvalidPost

SERVICE_NAME = rpc.DESCRIPTOR.services_by_name["ContentService"].full_name
# One ResolveAuthors call serves one telemetry batch; the gateway caps batches well below this.
MAX_RESOLVE_ITEMS = 5_000
# How much of a client's id an error echoes: the message travels in gRPC trailers, whose size
# is limited (a 16 KB id once broke the call).
MAX_ECHOED_ID_CHARS = 64

# Which caller services may call which method (anything not named here is refused).
POLICY: MethodPolicy = {
    method_name(SERVICE_NAME, "PublishPost"): frozenset({GATEWAY, CONTENT}),
    method_name(SERVICE_NAME, "GetPost"): frozenset({ANY_TRUSTED_CALLER}),
    method_name(SERVICE_NAME, "ResolveAuthors"): frozenset({GATEWAY, CONTENT}),
    # A creator's posts are public, like each post.
    method_name(SERVICE_NAME, "ListAuthorPosts"): frozenset({ANY_TRUSTED_CALLER}),
    **INTERACTIONS_POLICY,
    # TopicService, served by the same process (adapters/grpc_topics.py).
    **TOPIC_POLICY,
    **LIFECYCLE_POLICY,
    **REPORT_POLICY,
    **DRAFTS_POLICY,
}

Context = grpc.aio.ServicerContext[Any, Any]


class ContentUseCases(Protocol):
    """What the servicer calls (services.content.handlers.ContentHandlers)."""

    async def publish_post(self, cmd: PublishPost, caller: Caller) -> Published:
        """Publish (idempotent), here or on the owner."""

    async def get_post(self, post_id: str, caller: Caller) -> Post | None:
        """The post, if published."""

    async def resolve_authors(self, item_ids: Iterable[str], caller: Caller) -> dict[str, str]:
        """Creator of each known id."""

    async def list_author_posts(
        self, author_id: str, after: Cursor | None, limit: int, caller: Caller
    ) -> tuple[list[Post], str]:
        """A page of the author's posts, newest first, and the next cursor ("" on the last)."""


class ContentServicer(rpc_grpc.ContentServiceServicer):
    """Translates RPCs to handler calls and handler errors to status codes."""

    def __init__(self, handlers: ContentUseCases, stats: PostStats | None = None) -> None:
        self._handlers = handlers
        # Each post's likes, comments and shares (the interactions' owner replicas).
        self._stats = stats

    async def PublishPost(
        self, request: rpc.PublishPostRequest, context: Context
    ) -> rpc.PublishPostResponse:
        """Publish a post (idempotent on request_id) as the end user the call is made for."""
        caller = current_caller()
        if not caller.user_id or caller.user_id != request.creator_id:
            await _abort(context, grpc.StatusCode.PERMISSION_DENIED,
                         "a post is published only by its creator: creator_id must be the "
                         "end user the call is made for")
        try:
            result = await self._handlers.publish_post(command_from_request(request), caller)
        except InvalidPost as exc:
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except NotPublisher as exc:
            await _abort(context, grpc.StatusCode.FAILED_PRECONDITION, str(exc))
        except (EventLogUnavailable, NotServing, IdentityCheckUnavailable) as exc:
            await _abort(context, grpc.StatusCode.UNAVAILABLE, str(exc))
        except PeerFailed as exc:
            await _abort(context, exc.code, exc.details)
        return rpc.PublishPostResponse(post=post_to_pb(result.post))

    async def GetPost(self, request: rpc.GetPostRequest, context: Context) -> rpc.Post:
        """A post by id; NOT_FOUND when it was never published."""
        caller = current_caller()
        try:
            post = await self._handlers.get_post(request.post_id, caller)
        except NotServing as exc:
            await _abort(context, grpc.StatusCode.UNAVAILABLE, str(exc))
        except PeerFailed as exc:
            await _abort(context, exc.code, exc.details)
        # A deleted post exists for its author and operators only (domain/post_rules.py).
        if post is None or not visible_to(post, caller.user_id, caller.roles):
            await _abort(context, grpc.StatusCode.NOT_FOUND,
                         f"post {_echo(request.post_id)} not found")
        [answer] = await with_stats([post_to_pb(post)], self._stats, current_caller())
        return answer

    async def ListAuthorPosts(
        self, request: rpc.ListAuthorPostsRequest, context: Context
    ) -> rpc.ListAuthorPostsResponse:
        """An author's posts, newest first, a page at a time (an unknown author has none)."""
        if not request.author_id or len(request.author_id) > MAX_ID_CHARS:
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT,
                         f"author_id must be 1-{MAX_ID_CHARS} characters")
        try:
            after = decode_cursor(request.cursor)
            limit = page_limit(request.limit)
        except InvalidPage as exc:
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        try:
            posts, next_cursor = await self._handlers.list_author_posts(
                request.author_id, after, limit, current_caller())
        except NotServing as exc:
            await _abort(context, grpc.StatusCode.UNAVAILABLE, str(exc))
        except PeerFailed as exc:
            await _abort(context, exc.code, exc.details)
        return rpc.ListAuthorPostsResponse(posts=await with_stats(
            [post_to_pb(p) for p in posts], self._stats, current_caller()),
                                           next_cursor=next_cursor)

    async def ResolveAuthors(
        self, request: rpc.ResolveAuthorsRequest, context: Context
    ) -> rpc.ResolveAuthorsResponse:
        """Creator of each known item id; unknown ids are absent."""
        if len(request.item_ids) > MAX_RESOLVE_ITEMS:
            await _abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{len(request.item_ids)} item ids; the limit is {MAX_RESOLVE_ITEMS}",
            )
        try:
            authors = await self._handlers.resolve_authors(request.item_ids, current_caller())
        except NotServing as exc:
            await _abort(context, grpc.StatusCode.UNAVAILABLE, str(exc))
        except PeerFailed as exc:
            await _abort(context, exc.code, exc.details)
        return rpc.ResolveAuthorsResponse(authors=authors)


def _echo(client_id: str) -> str:
    """A client's id as an error message may quote it: bounded, marked when cut."""
    if len(client_id) <= MAX_ECHOED_ID_CHARS:
        return repr(client_id)
    return f"{client_id[:MAX_ECHOED_ID_CHARS]!r}… ({len(client_id)} characters)"


def new_health() -> Health:
    """grpc.health.v1 on the service's port: NOT_SERVING until its partitions are restored."""
    return Health(SERVICE_NAME)


def make_server(
    servicer: ContentServicer, health_: Health, verifier: AssertionVerifier,
    more: Sequence[Callable[[grpc.aio.Server], None]] = (),
) -> grpc.aio.Server:
    """A grpc.aio server carrying the services, authenticating every call but health;
    ``more`` adds the content process's other services (their methods are in POLICY)."""
    server = authenticating_server(verifier, POLICY)
    rpc_grpc.add_ContentServiceServicer_to_server(servicer, server)
    for add in more:
        add(server)
    health_pb2_grpc.add_HealthServicer_to_server(health_.servicer, server)
    return server
