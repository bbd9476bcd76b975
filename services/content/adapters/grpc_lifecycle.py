"""PostLifecycleService over grpc.aio: edit, delete and a post's revisions.

The end user the call is made for must be the one the request names (editor_id,
deleter_id): a gateway cannot edit for someone else. Authorship, visibility and the
revision check are the use cases' (``domain/post_rules.py``). Status codes: NOT_FOUND for a
post the caller may not see, PERMISSION_DENIED for another's post, ABORTED for
a revision conflict (the gateway's 409), INVALID_ARGUMENT for an edit that breaks a rule.
"""

from __future__ import annotations

from typing import Any, NoReturn, Protocol

import grpc

from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1 import post_lifecycle_pb2 as lc
from planet.content.v1 import post_lifecycle_pb2_grpc as lc_grpc
from planetkit.grpc_health import abort as _abort
from planetkit.service_auth import Caller, current_caller
from planetkit.service_auth_server import ANY_TRUSTED_CALLER, MethodPolicy, method_name
from planetkit.service_identities import CONTENT, GATEWAY
from services.content.adapters.peers import PeerFailed
from services.content.domain.codec import component_from_pb, post_to_pb
from services.content.domain.edits import EditPost
from services.content.domain.errors import EventLogUnavailable, NotServing
from services.content.domain.model import Post
from services.content.domain.post_rules import (
    NotAuthor,
    PostNotFound,
    RevisionConflict,
    check_post_id,
    revision_page_limit,
)
from services.content.domain.validation import MAX_ID_CHARS, InvalidPost

LIFECYCLE_SERVICE = lc.DESCRIPTOR.services_by_name["PostLifecycleService"].full_name
LIFECYCLE_POLICY: MethodPolicy = {
    # Writes come from the gateway for the end user, or from a replica forwarding them.
    method_name(LIFECYCLE_SERVICE, "EditPost"): frozenset({GATEWAY, CONTENT}),
    method_name(LIFECYCLE_SERVICE, "DeletePost"): frozenset({GATEWAY, CONTENT}),
    # Any trusted caller may ask; only the author and operators get an answer (the end
    # user's roles travel in the signed assertion).
    method_name(LIFECYCLE_SERVICE, "ListPostRevisions"): frozenset({ANY_TRUSTED_CALLER}),
}

Context = grpc.aio.ServicerContext[Any, Any]


class LifecycleUseCases(Protocol):
    """What the servicer calls (services.content.post_lifecycle.PostLifecycle)."""

    async def edit_post(self, cmd: EditPost, caller: Caller) -> Post:
        """Edit here or on the owner."""

    async def delete_post(self, post_id: str, deleter_id: str, caller: Caller) -> Post:
        """Delete here or on the owner."""

    async def list_revisions(self, post_id: str, before: int, limit: int, caller: Caller
                             ) -> tuple[list[Post], int]:
        """Revisions newest first and the next page's ``before``."""


def edit_command(req: lc.EditPostRequest) -> EditPost:
    """The command an EditPostRequest asks for; InvalidPost for a component without a kind."""
    return EditPost(
        post_id=req.post_id, editor_id=req.editor_id, request_id=req.request_id,
        expected_revision=req.expected_revision,
        title=req.title if req.HasField("title") else None,
        body=req.body if req.HasField("body") else None,
        summary=req.summary if req.HasField("summary") else None,
        cover_image_url=req.cover_image_url if req.HasField("cover_image_url") else None,
        hashtags=tuple(req.hashtags) if req.set_hashtags else None,
        mentions=tuple(req.mentions) if req.set_mentions else None,
        components=tuple(component_from_pb(c, f"component {i}")
                         for i, c in enumerate(req.components, 1))
        if req.set_components else None,
    )


class LifecycleRpc(lc_grpc.PostLifecycleServiceServicer):
    """Translates RPCs to use-case calls and their errors to status codes."""

    def __init__(self, lifecycle: LifecycleUseCases) -> None:
        self._lifecycle = lifecycle

    async def EditPost(self, request: lc.EditPostRequest, context: Context) -> rpc.Post:
        """A new revision of the caller's post."""
        caller = current_caller()
        await _same_user(context, caller, request.editor_id, "edited", "editor_id")
        await _bounded(context, request.post_id, request.request_id)
        try:
            post = await self._lifecycle.edit_post(edit_command(request), caller)
        except Exception as exc:  # mapped to a status by _fail, or re-raised
            await _fail(context, exc)
        return post_to_pb(post)

    async def DeletePost(self, request: lc.DeletePostRequest, context: Context) -> rpc.Post:
        """Delete the caller's post (again: answers it as deleted)."""
        caller = current_caller()
        await _same_user(context, caller, request.deleter_id, "deleted", "deleter_id")
        await _bounded(context, request.post_id, "")
        try:
            post = await self._lifecycle.delete_post(request.post_id, request.deleter_id,
                                                     caller)
        except Exception as exc:  # mapped to a status by _fail, or re-raised
            await _fail(context, exc)
        return post_to_pb(post)

    async def ListPostRevisions(self, request: lc.ListPostRevisionsRequest, context: Context
                                ) -> lc.ListPostRevisionsResponse:
        """Revisions newest first: the author's and operators' only."""
        await _bounded(context, request.post_id, "")
        try:
            limit = revision_page_limit(request.limit)
        except ValueError as exc:
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        try:
            revisions, before = await self._lifecycle.list_revisions(
                request.post_id, request.before_revision, limit, current_caller())
        except Exception as exc:  # mapped to a status by _fail, or re-raised
            await _fail(context, exc)
        return lc.ListPostRevisionsResponse(revisions=[post_to_pb(p) for p in revisions],
                                            next_before_revision=before)


async def _same_user(context: Context, caller: Caller, named: str, what: str, field: str
                     ) -> None:
    if not caller.user_id or caller.user_id != named:
        await _abort(context, grpc.StatusCode.PERMISSION_DENIED,
                     f"a post is {what} only by its author: {field} must be the end user the "
                     "call is made for")


async def _bounded(context: Context, post_id: str, request_id: str) -> None:
    problem = check_post_id(post_id)
    if not problem and len(request_id) > MAX_ID_CHARS:
        problem = f"request_id has {len(request_id)} characters; the limit is {MAX_ID_CHARS}"
    if problem:
        await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, problem)


async def _fail(context: Context, exc: Exception) -> NoReturn:
    """Abort with the status ``exc`` maps to; anything unexpected propagates."""
    if isinstance(exc, InvalidPost):
        await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
    if isinstance(exc, PostNotFound):
        await _abort(context, grpc.StatusCode.NOT_FOUND, str(exc))
    if isinstance(exc, NotAuthor):
        await _abort(context, grpc.StatusCode.PERMISSION_DENIED, str(exc))
    if isinstance(exc, RevisionConflict):
        # ABORTED: gRPC's code for a lost read-modify-write race (the gateway's 409).
        await _abort(context, grpc.StatusCode.ABORTED, str(exc))
    if isinstance(exc, EventLogUnavailable | NotServing):
        await _abort(context, grpc.StatusCode.UNAVAILABLE, str(exc))
    if isinstance(exc, PeerFailed):
        await _abort(context, exc.code, exc.details)
    raise exc


def add_lifecycle(server: grpc.aio.Server, lifecycle: LifecycleUseCases) -> None:
    """Serve PostLifecycleService on ``server``."""
    lc_grpc.add_PostLifecycleServiceServicer_to_server(LifecycleRpc(lifecycle), server)
