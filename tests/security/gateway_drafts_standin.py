"""Content's DraftService as the security tests' gateway apps see it: alice keeps one draft
at revision 2; anyone else's draft, or any other id, is 404; a save naming another revision
is a 409 (the semantics are content's, tested on the real service in
tests/kafka/content/test_content_drafts.py)."""

from __future__ import annotations

from typing import Protocol

from gateway.auth import Principal
from gateway.errors import Conflict, NotFound
from planet.content.v1 import content_service_pb2 as content
from planet.content.v1 import drafts_pb2 as dr
from services.content.domain.drafts import draft_id_for
from services.content.domain.ids import post_id_for

DRAFT = draft_id_for("alice", "first")


class _Calls(Protocol):
    names: list[str]


class Drafts:
    """One draft of alice's."""

    def __init__(self, calls: _Calls) -> None:
        self.calls = calls

    def _draft(self, caller: Principal, draft_id: str, revision: int = 2,
               content_: dr.DraftContent | None = None) -> dr.Draft:
        if caller.user_id != "alice" or draft_id != DRAFT:
            raise NotFound("draft not found")
        return dr.Draft(draft_id=DRAFT, author_id="alice", revision=revision,
                        content=content_ or dr.DraftContent(title="t", body="b"),
                        created_at_ms=1, updated_at_ms=2, body_html="<p>b</p>\n")

    async def save_draft(self, caller: Principal, request: dr.SaveDraftRequest) -> dr.Draft:
        self.calls.names.append("save_draft")
        return dr.Draft(draft_id=draft_id_for(caller.user_id, request.request_id),
                        author_id=caller.user_id, revision=1, content=request.content)

    async def update_draft(self, caller: Principal, request: dr.UpdateDraftRequest
                           ) -> dr.Draft:
        self.calls.names.append("update_draft")
        self._draft(caller, request.draft_id)
        if request.expected_revision != 2:
            raise Conflict("the draft is at revision 2")
        return self._draft(caller, request.draft_id, 3, request.content)

    async def get_draft(self, caller: Principal, request: dr.GetDraftRequest) -> dr.Draft:
        self.calls.names.append("get_draft")
        return self._draft(caller, request.draft_id)

    async def list_drafts(self, caller: Principal, request: dr.ListDraftsRequest
                          ) -> dr.ListDraftsResponse:
        self.calls.names.append("list_drafts")
        if caller.user_id != "alice":
            return dr.ListDraftsResponse()
        return dr.ListDraftsResponse(drafts=[self._draft(caller, DRAFT)])

    async def discard_draft(self, caller: Principal, request: dr.DiscardDraftRequest
                            ) -> dr.DiscardDraftResponse:
        self.calls.names.append("discard_draft")
        self._draft(caller, request.draft_id)
        return dr.DiscardDraftResponse()

    async def publish_draft(self, caller: Principal, request: dr.PublishDraftRequest
                            ) -> content.Post:
        self.calls.names.append("publish_draft")
        self._draft(caller, request.draft_id)
        return content.Post(post_id=post_id_for("alice", f"draft\x00{DRAFT}\x002"),
                            creator_id="alice", title="t", body="b", version=1, revision=1)
