"""DraftService over grpc.aio: save, update, get, list, discard and publish drafts.

Who may call: the gateway, for the end user the call is made for, and content itself (a
replica forwarding the call, for the same user, to the owner of the author's partition).
No other service reads drafts (they are private content, never sunk). The end user must be
the author the request names: a gateway cannot read or write anyone else's drafts, and an
operator role gives no access either (``services/content/drafts.py`` says why).

Status codes: NOT_FOUND for a draft that is not the caller's (never PERMISSION_DENIED: a
draft's existence is not revealed), ABORTED for a stale expected revision or a published
draft (the gateway's 409), INVALID_ARGUMENT for a save that breaks an article's limits,
FAILED_PRECONDITION when the author keeps too many drafts or may not publish (403 with the
reason), UNAVAILABLE when the log, a peer or social cannot answer now (retry).
"""

from __future__ import annotations

from typing import Any, NoReturn, Protocol

import grpc

from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1 import drafts_pb2 as dr
from planet.content.v1 import drafts_pb2_grpc as dr_grpc
from planetkit.grpc_health import abort as _abort
from planetkit.service_auth import Caller, current_caller
from planetkit.service_auth_server import MethodPolicy, method_name
from planetkit.service_identities import CONTENT, GATEWAY
from services.content.adapters.peers import PeerFailed
from services.content.domain.codec import post_to_pb
from services.content.domain.drafts import (
    Draft,
    DraftConflict,
    DraftNotFound,
    TooManyDrafts,
    draft_to_pb,
)
from services.content.domain.errors import (
    EventLogUnavailable,
    IdentityCheckUnavailable,
    NotPublisher,
    NotServing,
)
from services.content.domain.model import Post
from services.content.domain.validation import InvalidPost

DRAFT_SERVICE = dr.DESCRIPTOR.services_by_name["DraftService"].full_name
_METHODS = ("SaveDraft", "UpdateDraft", "GetDraft", "ListDrafts", "DiscardDraft",
            "PublishDraft")
DRAFTS_POLICY: MethodPolicy = {
    method_name(DRAFT_SERVICE, m): frozenset({GATEWAY, CONTENT}) for m in _METHODS}

Context = grpc.aio.ServicerContext[Any, Any]


class DraftUseCases(Protocol):
    """What the servicer calls (services.content.drafts.DraftHandlers)."""

    async def save(self, request: dr.SaveDraftRequest, caller: Caller) -> Draft:
        """Create (idempotent on request_id)."""

    async def update(self, request: dr.UpdateDraftRequest, caller: Caller) -> Draft:
        """Replace the content (revision-checked)."""

    async def get(self, request: dr.GetDraftRequest, caller: Caller) -> Draft:
        """One draft."""

    async def list(self, request: dr.ListDraftsRequest, caller: Caller) -> list[Draft]:
        """The author's live drafts."""

    async def discard(self, request: dr.DiscardDraftRequest, caller: Caller) -> None:
        """Discard."""

    async def publish(self, request: dr.PublishDraftRequest, caller: Caller) -> Post:
        """Publish as an article."""


class DraftRpc(dr_grpc.DraftServiceServicer):
    """Translates RPCs to use-case calls and their errors to status codes."""

    def __init__(self, drafts: DraftUseCases) -> None:
        self._drafts = drafts

    async def SaveDraft(self, request: dr.SaveDraftRequest, context: Context) -> dr.Draft:
        """A new draft of the caller's."""
        caller = await _author(context, request.author_id)
        try:
            return draft_to_pb(await self._drafts.save(request, caller))
        except Exception as exc:  # mapped to a status by _fail, or re-raised
            await _fail(context, exc)

    async def UpdateDraft(self, request: dr.UpdateDraftRequest, context: Context
                          ) -> dr.Draft:
        """The caller's draft, saved as the next revision."""
        caller = await _author(context, request.author_id)
        try:
            return draft_to_pb(await self._drafts.update(request, caller))
        except Exception as exc:  # mapped to a status by _fail, or re-raised
            await _fail(context, exc)

    async def GetDraft(self, request: dr.GetDraftRequest, context: Context) -> dr.Draft:
        """One of the caller's drafts, to resume it."""
        caller = await _author(context, request.author_id)
        try:
            return draft_to_pb(await self._drafts.get(request, caller))
        except Exception as exc:  # mapped to a status by _fail, or re-raised
            await _fail(context, exc)

    async def ListDrafts(self, request: dr.ListDraftsRequest, context: Context
                         ) -> dr.ListDraftsResponse:
        """The caller's drafts, most recently updated first, bodies left out."""
        caller = await _author(context, request.author_id)
        try:
            drafts = await self._drafts.list(request, caller)
        except Exception as exc:  # mapped to a status by _fail, or re-raised
            await _fail(context, exc)
        return dr.ListDraftsResponse(drafts=[draft_to_pb(d, with_body=False) for d in drafts])

    async def DiscardDraft(self, request: dr.DiscardDraftRequest, context: Context
                           ) -> dr.DiscardDraftResponse:
        """Discard one of the caller's drafts."""
        caller = await _author(context, request.author_id)
        try:
            await self._drafts.discard(request, caller)
        except Exception as exc:  # mapped to a status by _fail, or re-raised
            await _fail(context, exc)
        return dr.DiscardDraftResponse()

    async def PublishDraft(self, request: dr.PublishDraftRequest, context: Context
                           ) -> rpc.Post:
        """The article one of the caller's drafts became."""
        caller = await _author(context, request.author_id)
        try:
            return post_to_pb(await self._drafts.publish(request, caller))
        except Exception as exc:  # mapped to a status by _fail, or re-raised
            await _fail(context, exc)


async def _author(context: Context, author_id: str) -> Caller:
    caller = current_caller()
    if not caller.user_id or caller.user_id != author_id:
        await _abort(context, grpc.StatusCode.PERMISSION_DENIED,
                     "drafts are their author's alone: author_id must be the end user the "
                     "call is made for")
    return caller


async def _fail(context: Context, exc: Exception) -> NoReturn:
    """Abort with the status ``exc`` maps to; anything unexpected propagates."""
    if isinstance(exc, InvalidPost):
        await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
    if isinstance(exc, DraftNotFound):
        await _abort(context, grpc.StatusCode.NOT_FOUND, str(exc))
    if isinstance(exc, DraftConflict):
        # ABORTED: gRPC's code for a lost read-modify-write race (the gateway's 409).
        await _abort(context, grpc.StatusCode.ABORTED, str(exc))
    if isinstance(exc, TooManyDrafts | NotPublisher):
        await _abort(context, grpc.StatusCode.FAILED_PRECONDITION, str(exc))
    if isinstance(exc, EventLogUnavailable | NotServing | IdentityCheckUnavailable):
        await _abort(context, grpc.StatusCode.UNAVAILABLE, str(exc))
    if isinstance(exc, PeerFailed):
        await _abort(context, exc.code, exc.details)
    raise exc


def add_drafts(server: grpc.aio.Server, drafts: DraftUseCases) -> None:
    """Serve DraftService on ``server``."""
    dr_grpc.add_DraftServiceServicer_to_server(DraftRpc(drafts), server)
