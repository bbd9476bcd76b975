"""The groups service stood in for the fuzzed gateway: commands answer a result, reads of
a group answer "no such group", lists are empty (the gateway's shapes and error mapping are
what the fuzzing checks; the service's rules are its own tests')."""

from __future__ import annotations

from google.protobuf.message import Message

from gateway.auth import Principal
from gateway.group_refusals import GroupRefused
from planet.groups.v1 import groups_service_pb2 as rpc


def _not_found() -> GroupRefused:
    return GroupRefused(rpc.Refusal(code="not_found", message="no such group"), "NOT_FOUND")


class Groups:
    """GroupsPort with no groups: commands succeed, reads of a group are 404."""

    async def command(self, caller: Principal, name: str, request: Message
                      ) -> rpc.CommandResult:
        return rpc.CommandResult(group_id=getattr(request, "group_id", "") or "g" + "0" * 24,
                                 seqs=[1])

    async def get_group(self, caller: Principal, request: rpc.GroupRequest) -> rpc.GroupView:
        raise _not_found()

    async def list_groups(self, caller: Principal, request: rpc.ListGroupsRequest
                          ) -> rpc.GroupPage:
        return rpc.GroupPage()

    async def list_members(self, caller: Principal, request: rpc.ListMembersRequest
                           ) -> rpc.MemberPage:
        raise _not_found()

    async def history(self, caller: Principal, request: rpc.HistoryRequest) -> rpc.HistoryPage:
        raise _not_found()

    async def admin_log(self, caller: Principal, request: rpc.AdminLogRequest
                        ) -> rpc.AdminLogPage:
        raise _not_found()

    async def unread(self, caller: Principal, request: rpc.UnreadRequest) -> rpc.UnreadPage:
        return rpc.UnreadPage()

    async def resolve_group_items(self, caller: Principal, group_ids: list[str]
                                  ) -> dict[str, str]:
        return {}  # no group the caller may read: telemetry on one is an unknown item
