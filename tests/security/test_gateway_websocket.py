"""Finding 6: WebSocket credentials stay out of logs and URLs; every frame gets an answer.

Before: the token could only travel in the query string, uvicorn wrote it to the log on
every connect, and a binary frame killed the handler with ``KeyError: 'text'``.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest
import websockets
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from gateway.auth import issue_token
from tests.security.gateway_apps import app_client, dev_settings, dev_token
from tests.security.gateway_process import SECRET, gateway_process

PATH = "/v1/ws/creators/alice/estimate"


@pytest.fixture
def client() -> TestClient:
    return app_client(dev_settings(ws_max_message_bytes=1024, ws_auth_timeout_s=5))


def test_the_token_travels_in_a_subprotocol_and_only_the_protocol_is_echoed(
    client: TestClient,
) -> None:
    with client, client.websocket_connect(
        PATH, subprotocols=["planet.v1", f"bearer.{dev_token('alice')}"]
    ) as ws:
        assert ws.accepted_subprotocol == "planet.v1"
        assert ws.receive_json()["estimated_minor"] == 1_500_000


def test_the_token_can_be_the_first_message(client: TestClient) -> None:
    with client, client.websocket_connect(PATH) as ws:
        ws.send_json({"type": "auth", "token": dev_token("alice")})
        assert ws.receive_json()["creator_id"] == "alice"
    with client, client.websocket_connect(PATH) as ws:
        ws.send_text("hello")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1007
    with client, client.websocket_connect(PATH) as ws:
        ws.send_json({"type": "auth", "token": dev_token("mallory")})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1008 and "only the creator" in closed.value.reason


@pytest.mark.parametrize(
    ("send", "code", "reason"),
    [
        (lambda ws: ws.send_bytes(b"\x00\x01"), 1003, "binary frames are not supported"),
        (lambda ws: ws.send_text("not json"), 1007, "must be JSON"),
        (lambda ws: ws.send_text(json.dumps({"x": "y" * 2000})), 1009, "limited to 1024"),
    ],
)
def test_frames_the_protocol_does_not_allow_close_with_a_defined_code(
    client: TestClient, send: object, code: int, reason: str
) -> None:
    with client, client.websocket_connect(
        PATH, subprotocols=["planet.v1", f"bearer.{dev_token('alice')}"]
    ) as ws:
        ws.receive_json()
        send(ws)  # type: ignore[operator]
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:  # estimates may still be in flight before the close
                ws.receive_json()
        assert closed.value.code == code and reason in closed.value.reason


def test_json_frames_are_answered(client: TestClient) -> None:
    with client, client.websocket_connect(
        PATH, subprotocols=["planet.v1", f"bearer.{dev_token('alice')}"]
    ) as ws:
        ws.receive_json()
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}
        ws.send_json({"type": "subscribe"})
        assert "unknown message" in ws.receive_json()["error"]


@pytest.mark.kafka
async def test_no_credential_reaches_the_log_of_a_real_gateway(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    now = int(time.time())
    tokens = [issue_token(SECRET, "alice", [f"t{i}"], now_s=now, ttl_s=600) for i in range(4)]
    with gateway_process(tmp_path, kafka_bootstrap,
                         PLANET_GATEWAY_WS_MAX_MESSAGE_BYTES="2048") as gw:
        ws_base = gw.base.replace("http", "ws")
        async with httpx.AsyncClient(base_url=gw.base) as http:
            await http.get(f"/v1/creators/alice/estimate?token={tokens[0]}&week=2026-W01")
        # Query string (still accepted), subprotocol and first message: all authenticate
        # (1013: the backend behind is down, so authentication itself succeeded).
        for url, protocols, first in [
            (f"{ws_base}{PATH}?token={tokens[1]}", None, None),
            (f"{ws_base}{PATH}", ["planet.v1", f"bearer.{tokens[2]}"], None),
            (f"{ws_base}{PATH}", None, json.dumps({"type": "auth", "token": tokens[3]})),
        ]:
            async with websockets.connect(url, subprotocols=protocols) as ws:
                if protocols:
                    assert ws.subprotocol == "planet.v1"
                if first:
                    await ws.send(first)
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 10)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
        # A frame over the server's size cap is refused by uvicorn itself (1009).
        async with websockets.connect(f"{ws_base}{PATH}") as ws:
            await ws.send("x" * 10_000)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    log = gw.log()
    assert f'"WebSocket {PATH}"' in log and '"GET /v1/creators/alice/estimate"' in log
    for token in tokens:
        signature = token.rsplit(".", 1)[1]
        assert token not in log and signature not in log
    assert "token=" not in log
