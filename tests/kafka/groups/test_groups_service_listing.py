"""ListGroups through the real service reads the listing index: public open groups by id, by
topic, by name prefix (casefolded, in name order), paged with nothing lost or repeated; a
group renamed, made private or re-topicked moves in the index at once; private groups are
never listed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import grpc

from planetkit.service_auth_dev import DevServiceAuth
from services.groups.bootstrap import RunningGroups
from services.social.bootstrap import RunningSocial
from tests.kafka.groups.groups_harness import Client, profile
from tests.kafka.social.social_harness import open_creators


async def _all(who: Client, limit: int, **query: str) -> list[str]:
    """Every page of a listing, following next_cursor; group ids in page order."""
    out: list[str] = []
    cursor = ""
    for _ in range(50):
        page = await who.call("ListGroups", limit=limit, cursor=cursor, **query)
        assert len(page.groups) <= limit
        out += [g.group_id for g in page.groups]
        cursor = page.next_cursor
        if not cursor:
            return out
    raise AssertionError("the listing never ended")


async def test_groups_service_listing_index(
    kafka_bootstrap: str, topic_suffix: str, service_auth: DevServiceAuth,
    social: RunningSocial, groups_service: Callable[..., Awaitable[RunningGroups]],
) -> None:
    await open_creators(social, service_auth, kafka_bootstrap, topic_suffix, ["lister"])
    groups = await groups_service()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{groups.port}") as channel:
        owner, reader = Client(channel, service_auth, "lister"), Client(channel, service_auth,
                                                                        "reader")
        names = ["Alpha desk", "alpine traders", "Beta room", "ALPACA club", "Gamma",
                 "alps", "Delta"]
        made: dict[str, str] = {}
        for i, name in enumerate(names):
            p = profile(name)
            p.topics[:] = ["btc"] if i % 2 == 0 else ["eth"]
            made[name] = (await owner.call("CreateGroup", request_id=f"c{i}",
                                           profile=p)).group_id
        hidden = (await owner.call("CreateGroup", request_id="secret",
                                   profile=profile("Alpha secret", private=True))).group_id

        everyone = await _all(reader, 2)
        assert everyone == sorted(made.values())  # by id, each once, no private one
        assert hidden not in everyone
        assert await _all(reader, 3, topic="btc") == sorted(
            made[n] for i, n in enumerate(names) if i % 2 == 0)
        by_name = await _all(reader, 2, name_prefix="al")
        assert by_name == [made[n] for n in ("ALPACA club", "Alpha desk", "alpine traders",
                                             "alps")]  # casefolded name order
        assert await _all(reader, 1, name_prefix="al", topic="eth") == [
            made["ALPACA club"], made["alpine traders"], made["alps"]]

        # Renamed, made private, re-topicked: the index follows.
        renamed = profile("Zeta desk")
        await owner.call("UpdateGroupInfo", request_id="u1", group_id=made["Alpha desk"],
                         profile=renamed)
        await owner.call("UpdateGroupInfo", request_id="u2", group_id=made["alps"],
                         profile=profile("alps", private=True))
        retopic = profile("Gamma")
        retopic.topics[:] = ["sol"]
        await owner.call("UpdateGroupInfo", request_id="u3", group_id=made["Gamma"],
                         profile=retopic)
        assert await _all(reader, 2, name_prefix="al") == [made["ALPACA club"],
                                                           made["alpine traders"]]
        assert await _all(reader, 5, name_prefix="zeta") == [made["Alpha desk"]]
        assert made["Gamma"] not in await _all(reader, 5, topic="btc")
        assert await _all(reader, 5, topic="sol") == [made["Gamma"]]
        assert made["alps"] not in await _all(reader, 100)
        assert (await reader.call("ListGroups", name_prefix="al", cursor="g" + "0" * 24)
                ).groups == []  # another listing's cursor: nothing, never an error
