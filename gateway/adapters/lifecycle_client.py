"""Content's PostLifecycleService and DraftService over gRPC (edits, deletes, revisions,
drafts), on the content channel."""

from __future__ import annotations

import grpc

from gateway.adapters.service_calls import CallSigner, SignedCalls
from gateway.auth import Principal
from planet.content.v1 import content_service_pb2 as content
from planet.content.v1 import post_lifecycle_pb2 as lc
from planet.content.v1 import post_lifecycle_pb2_grpc as lc_grpc


class GrpcPostLifecycle:
    """PostLifecyclePort over one grpc.aio channel; every call is signed for its user."""

    def __init__(self, channel: grpc.aio.Channel, timeout_s: float, signer: CallSigner) -> None:
        self._stub = lc_grpc.PostLifecycleServiceStub(channel)
        self._call = SignedCalls(signer, timeout_s, "content service")

    async def edit_post(self, caller: Principal, request: lc.EditPostRequest) -> content.Post:
        """A new revision of the caller's post (409 on a stale expected revision)."""
        return await self._call(caller, self._stub.EditPost, request)

    async def delete_post(self, caller: Principal, request: lc.DeletePostRequest
                          ) -> content.Post:
        """Delete the caller's post."""
        return await self._call(caller, self._stub.DeletePost, request)

    async def list_revisions(self, caller: Principal, request: lc.ListPostRevisionsRequest
                             ) -> lc.ListPostRevisionsResponse:
        """A page of a post's revisions, newest first (its author and operators)."""
        return await self._call(caller, self._stub.ListPostRevisions, request)
