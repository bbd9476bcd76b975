"""The estimate WebSocket over the real app, the real incentive client against a stand-in
gRPC server, and a real EstimateHub fed by hand (its Kafka consumer is covered by
tests/kafka/gateway/test_estimate_hub.py): the current estimate first, fetched once; then
each newer estimate the hub pushes, in order; stale, duplicate and other creators' ones
dropped; a too-slow socket closed with 1013; the service's refusals as close codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc
import pytest
from starlette.websockets import WebSocketDisconnect

from gateway.estimate_hub import EstimateHub
from tests.security.gateway_apps import dev_token, idle_estimate_hub
from tests.security.gateway_pool_standin import WEEK, estimate, pool_client

PATH = "/v1/ws/creators/alice/estimate"


def _protocols(user: str, roles: list[str] | None = None) -> list[str]:
    return ["planet.v1", f"bearer.{dev_token(user, roles)}"]


def _pong(ws: Any) -> None:
    """A ping answered: the socket has subscribed (its listener starts after) and every
    message sent before the pong has been received already."""
    ws.send_json({"type": "ping"})
    assert ws.receive_json() == {"type": "pong"}


def test_the_current_estimate_then_each_newer_push_in_order_and_no_poll(tmp_path: Path
                                                                        ) -> None:
    hub = idle_estimate_hub()
    client, standin = pool_client(tmp_path, hub=hub)
    standin.current = estimate("alice", 100, 5_000)
    with client, client.websocket_connect(PATH, subprotocols=_protocols("alice")) as ws:
        first = ws.receive_json()
        assert (first["as_of_ms"], first["estimated_minor"]) == (100, 5_000)
        assert first["breakdown"]["discounts"][0]["reason"] == "self_engagement"
        _pong(ws)
        assert hub.sockets == 1
        pushed = [estimate("alice", 100, 5_000),  # what the fetch already sent
                  estimate("alice", 50, 1),  # older than what was sent
                  estimate("bob", 400, 9),  # another creator's
                  estimate("alice", 200, 7_000), estimate("alice", 300, 8_000),
                  estimate("alice", 10, 3, week="2026-W11")]  # the week turned
        for e in pushed:
            client.portal.call(hub.deliver, e)
        got = [ws.receive_json() for _ in range(3)]
        assert [(g["week"], g["as_of_ms"], g["estimated_minor"]) for g in got] == [
            (WEEK, 200, 7_000), (WEEK, 300, 8_000), ("2026-W11", 10, 3)]
        _pong(ws)  # nothing else was sent in between
    assert [c.method for c in standin.calls] == ["GetCreatorEstimate"]
    assert hub.sockets == 0


def test_a_socket_for_one_week_gets_that_weeks_estimates_only(tmp_path: Path) -> None:
    hub = idle_estimate_hub()
    client, standin = pool_client(tmp_path, hub=hub)
    with client, client.websocket_connect(f"{PATH}?week={WEEK}",
                                          subprotocols=_protocols("ops", ["operator"])) as ws:
        assert ws.receive_json()["as_of_ms"] == 1
        _pong(ws)
        client.portal.call(hub.deliver, estimate("alice", 9, 3, week="2026-W11"))
        client.portal.call(hub.deliver, estimate("alice", 8, 4))
        assert ws.receive_json()["estimated_minor"] == 4
    assert standin.calls[0].request.week == WEEK and standin.calls[0].user_id == "ops"


def test_without_an_estimate_yet_the_first_push_is_the_first_message(tmp_path: Path) -> None:
    hub = idle_estimate_hub()
    client, standin = pool_client(tmp_path, hub=hub)
    standin.fail = {"GetCreatorEstimate": grpc.StatusCode.NOT_FOUND}
    with client, client.websocket_connect(PATH, subprotocols=_protocols("alice")) as ws:
        _pong(ws)
        client.portal.call(hub.deliver, estimate("alice", 5, 42))
        assert ws.receive_json()["estimated_minor"] == 42


@pytest.mark.parametrize(("code", "close"), [(grpc.StatusCode.UNAVAILABLE, 1013),
                                             (grpc.StatusCode.PERMISSION_DENIED, 1008),
                                             (grpc.StatusCode.INVALID_ARGUMENT, 1008)])
def test_the_services_refusal_closes_the_socket_with_a_code(tmp_path: Path,
                                                            code: grpc.StatusCode,
                                                            close: int) -> None:
    hub = idle_estimate_hub()
    client, standin = pool_client(tmp_path, hub=hub)
    standin.fail = {"GetCreatorEstimate": code}
    with (client, client.websocket_connect(PATH, subprotocols=_protocols("alice")) as ws,
          pytest.raises(WebSocketDisconnect) as closed):
        ws.receive_json()
    assert closed.value.code == close
    assert hub.sockets == 0


def test_a_socket_too_slow_for_its_queue_is_closed_with_1013(tmp_path: Path) -> None:
    hub = EstimateHub(lambda: None, "estimates", 1, queue_size=2)  # type: ignore[arg-type,return-value]
    client, _ = pool_client(tmp_path, hub=hub)

    def burst() -> None:  # on the loop, in one go: the socket cannot read in between
        for as_of in range(10, 15):
            hub.deliver(estimate("alice", as_of, as_of))

    with client, client.websocket_connect(PATH, subprotocols=_protocols("alice")) as ws:
        ws.receive_json()
        _pong(ws)
        client.portal.call(burst)
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                ws.receive_json()
    assert closed.value.code == 1013 and "too slow" in closed.value.reason
    assert hub.sockets == 0


def test_other_creators_and_a_gateway_without_a_hub_are_refused(tmp_path: Path) -> None:
    client, standin = pool_client(tmp_path)
    with (client, client.websocket_connect(PATH, subprotocols=_protocols("bob")) as ws,
          pytest.raises(WebSocketDisconnect) as closed):
        ws.receive_json()
    assert closed.value.code == 1008 and "only the creator" in closed.value.reason
    assert standin.calls == []
    client, standin = pool_client(tmp_path, live=False)
    with (client, client.websocket_connect(PATH, subprotocols=_protocols("alice")) as ws,
          pytest.raises(WebSocketDisconnect) as closed):
        ws.receive_json()
    assert closed.value.code == 1013 and "not available" in closed.value.reason
