"""Content's DraftService over gRPC (save, update, get, list, discard, publish a draft), on
the content channel; every call is signed for the author it is made for."""

from __future__ import annotations

import grpc

from gateway.adapters.service_calls import CallSigner, SignedCalls
from gateway.auth import Principal
from planet.content.v1 import content_service_pb2 as content
from planet.content.v1 import drafts_pb2 as dr
from planet.content.v1 import drafts_pb2_grpc as dr_grpc


class GrpcDrafts:
    """DraftsPort over one grpc.aio channel."""

    def __init__(self, channel: grpc.aio.Channel, timeout_s: float, signer: CallSigner) -> None:
        self._stub = dr_grpc.DraftServiceStub(channel)
        self._call = SignedCalls(signer, timeout_s, "content service")

    async def save_draft(self, caller: Principal, request: dr.SaveDraftRequest) -> dr.Draft:
        """A new draft (a retried request id answers the same one)."""
        return await self._call(caller, self._stub.SaveDraft, request)

    async def update_draft(self, caller: Principal, request: dr.UpdateDraftRequest
                           ) -> dr.Draft:
        """The draft saved as its next revision (409 on a stale expected revision)."""
        return await self._call(caller, self._stub.UpdateDraft, request)

    async def get_draft(self, caller: Principal, request: dr.GetDraftRequest) -> dr.Draft:
        """One of the caller's drafts."""
        return await self._call(caller, self._stub.GetDraft, request)

    async def list_drafts(self, caller: Principal, request: dr.ListDraftsRequest
                          ) -> dr.ListDraftsResponse:
        """The caller's drafts, most recently updated first."""
        return await self._call(caller, self._stub.ListDrafts, request)

    async def discard_draft(self, caller: Principal, request: dr.DiscardDraftRequest
                            ) -> dr.DiscardDraftResponse:
        """Discard one of the caller's drafts."""
        return await self._call(caller, self._stub.DiscardDraft, request)

    async def publish_draft(self, caller: Principal, request: dr.PublishDraftRequest
                            ) -> content.Post:
        """The article the draft became."""
        return await self._call(caller, self._stub.PublishDraft, request)
