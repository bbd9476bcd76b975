"""Member sockets for the group-chat benches, held by load processes apart from the gateways.

Each load process (``multiprocessing``, spawned) opens its share of ``/v1/ws/groups/{id}``
sockets over loopback exactly as a client does (subprotocols ``planet.v1`` and
``bearer.<token>``, then ``{"after": 0}``, then frames until ``caught_up``), keeps reading
them, and times every ``message`` frame whose text the bench wrote as ``bench <t>``: ``t`` is
the poster's ``time.monotonic()`` just before its HTTP request, and CLOCK_MONOTONIC is one
clock for every process of the machine, so arrival minus ``t`` is the message-to-member
latency with no clock to align. The parent drives the processes over pipes: connect, count,
report, close. The load is spread over processes so that the gateway, not one client event
loop, is what saturates first (they still share the machine's cores with the gateways).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing as mp
import statistics
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from bench.groups_stack import raise_fd_limit

CONNECT_CONCURRENCY = 64  # sockets being opened at once, per load process
Key = tuple[str, int]  # (group id, message seq)


@dataclass(frozen=True)
class Seat:
    """One member socket to hold: which gateway (ws:// base), which group, whose token."""

    ws_base: str
    group_id: str
    token: str


def bench_text() -> str:
    """A message text carrying its send time (see the module docstring)."""
    return f"bench {time.monotonic():.6f}"


@dataclass
class Report:
    """What the load processes saw, merged."""

    latencies: array[float] = field(default_factory=lambda: array("d"))
    # Per message: how many sockets got it and the latest arrival's latency.
    per_message: dict[Key, tuple[int, float]] = field(default_factory=dict)
    closed: Counter[str] = field(default_factory=Counter)
    # The monotonic times of the first and last bench message read (0: none yet).
    first_arrival: float = 0.0
    last_arrival: float = 0.0

    def merge(self, other: Report) -> None:
        """Fold another process's report in."""
        self.latencies.extend(other.latencies)
        for key, (n, last) in other.per_message.items():
            have = self.per_message.get(key, (0, 0.0))
            self.per_message[key] = (have[0] + n, max(have[1], last))
        self.closed.update(other.closed)
        if other.first_arrival:
            self.first_arrival = min(self.first_arrival or other.first_arrival,
                                     other.first_arrival)
        self.last_arrival = max(self.last_arrival, other.last_arrival)


def quantiles_ms(values: array[float] | list[float]) -> dict[str, float]:
    """p50 / p99 / max of seconds, in ms."""
    if not values:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 \
        else [ordered[0]] * 99
    return {"p50": ordered[len(ordered) // 2] * 1000, "p99": cuts[98] * 1000,
            "max": ordered[-1] * 1000}


class Loaders:
    """``processes`` load processes holding ``seats`` between them (round-robin)."""

    def __init__(self, seats: list[Seat], processes: int, compression: str | None,
                 fd_limit: int, connect_deadline_s: float = 600.0) -> None:
        ctx = mp.get_context("spawn")
        self._conns: list[Connection] = []
        self._procs: list[Any] = []
        for i in range(processes):
            mine = seats[i::processes]
            if not mine:
                continue
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_main,
                               args=(child, mine, compression, fd_limit, connect_deadline_s),
                               daemon=True, name=f"group-sockets-{i}")
            proc.start()
            self._conns.append(parent)
            self._procs.append(proc)

    @property
    def pids(self) -> list[int]:
        """The load processes' pids."""
        return [int(p.pid) for p in self._procs]

    def _ask(self, command: str) -> list[Any]:
        for conn in self._conns:
            conn.send(command)
        return [conn.recv() for conn in self._conns]

    def connect(self) -> tuple[int, int, list[str]]:
        """Open every socket and wait for each one's ``caught_up``: (open, failed, errors)."""
        answers = self._ask("connect")
        return (sum(a[0] for a in answers), sum(a[1] for a in answers),
                [e for a in answers for e in a[2]])

    def received(self) -> int:
        """Bench messages received so far, over every socket."""
        return sum(self._ask("count"))

    def wait_for(self, expected: int, timeout_s: float) -> int:
        """Poll until ``expected`` bench messages arrived or ``timeout_s`` passed."""
        deadline = time.monotonic() + timeout_s
        got = self.received()
        while got < expected and time.monotonic() < deadline:
            time.sleep(0.2)
            got = self.received()
        return got

    def report(self) -> Report:
        """Every process's observations, merged."""
        out = Report()
        for part in self._ask("report"):
            out.merge(part)
        return out

    def close(self) -> None:
        """Close the sockets and end the processes."""
        for conn in self._conns:
            with contextlib.suppress(BrokenPipeError, OSError):
                conn.send("close")
        for proc in self._procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)


def _main(conn: Connection, seats: list[Seat], compression: str | None, fd_limit: int,
          connect_deadline_s: float) -> None:
    raise_fd_limit(fd_limit)
    asyncio.run(_Holder(conn, seats, compression, connect_deadline_s).serve())


class _Holder:
    """One load process: its sockets, what they received, the parent's commands."""

    def __init__(self, conn: Connection, seats: list[Seat], compression: str | None,
                 connect_deadline_s: float) -> None:
        self._conn = conn
        self._deadline_s = connect_deadline_s
        self._seats = seats
        self._compression = compression
        self._sockets: list[ClientConnection] = []
        self._readers: list[asyncio.Task[None]] = []
        self._report = Report()
        self._count = 0

    async def serve(self) -> None:
        commands: asyncio.Queue[str] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        loop.add_reader(self._conn.fileno(), lambda: commands.put_nowait(self._conn.recv()))
        while True:
            command = await commands.get()
            if command == "connect":
                self._conn.send(await self._connect_all())
            elif command == "count":
                self._conn.send(self._count)
            elif command == "report":
                self._conn.send(self._report)
                self._report = Report()
            elif command == "close":
                loop.remove_reader(self._conn.fileno())
                for task in self._readers:
                    task.cancel()
                await asyncio.gather(*(self._close(ws) for ws in self._sockets))
                return

    async def _close(self, ws: ClientConnection) -> None:
        try:
            async with asyncio.timeout(5):
                await ws.close()
        except (TimeoutError, OSError, ConnectionClosed):
            pass

    async def _connect_all(self) -> tuple[int, int, list[str]]:
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        errors: Counter[str] = Counter()

        async def one(seat: Seat) -> bool:
            async with gate:
                try:
                    await self._open(seat)
                    return True
                except (OSError, ConnectionClosed, TimeoutError, ValueError) as exc:
                    errors[f"{type(exc).__name__}: {exc}"[:160]] += 1
                    return False

        # A gateway that cannot take them all must not hold the bench forever: what is not
        # open by the deadline counts as failed, and the run goes on with what opened.
        tasks = [asyncio.create_task(one(s)) for s in self._seats]
        done, pending = await asyncio.wait(tasks, timeout=self._deadline_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if pending:
            errors[f"not open and caught up within {self._deadline_s:.0f} s"] += len(pending)
        ok = sum(1 for t in done if t.result())
        return ok, len(tasks) - ok, [f"{n}x {e}" for e, n in errors.most_common(5)]

    async def _open(self, seat: Seat) -> None:
        ws = await connect(
            f"{seat.ws_base}/v1/ws/groups/{seat.group_id}",
            subprotocols=[Subprotocol("planet.v1"), Subprotocol("bearer." + seat.token)],
            compression=self._compression, open_timeout=120, ping_interval=None,
            close_timeout=2, max_queue=None)
        self._sockets.append(ws)
        await ws.send(json.dumps({"after": 0}))
        async with asyncio.timeout(120):
            while json.loads(await ws.recv())["type"] != "caught_up":
                pass
        self._readers.append(asyncio.create_task(self._read(ws, seat.group_id)))

    async def _read(self, ws: ClientConnection, group_id: str) -> None:
        try:
            async for raw in ws:
                now = time.monotonic()
                frame = json.loads(raw)
                if frame.get("type") != "message":
                    continue
                text = str(frame["message"]["text"])
                if not text.startswith("bench "):
                    continue
                latency = now - float(text[6:])
                self._count += 1
                # The report may have been swapped since: always write to the current one.
                report = self._report
                report.latencies.append(latency)
                report.first_arrival = report.first_arrival or now
                report.last_arrival = now
                per_message = report.per_message
                key = (group_id, int(frame["seq"]))
                n, last = per_message.get(key, (0, 0.0))
                per_message[key] = (n + 1, max(last, latency))
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else "none"
            self._report.closed[f"{code} {exc.rcvd.reason if exc.rcvd else ''}"] += 1


def connect_all(loaders: Loaders, pids: list[int], n_loaders: int, compression: str,
                ) -> tuple[int, list[int]]:
    """Open every seat's socket and print how it went, then the gateways' CPU while they hold
    the sockets idle for 10 s; (sockets open, each gateway's RSS in KiB right after)."""
    # Here, not at the top: the load processes import this module and need none of the stack.
    from bench.groups_stack import idle_cpu, rss_kib

    t0 = time.perf_counter()
    opened, failed, errors = loaders.connect()
    connect_s = time.perf_counter() - t0
    rss = [rss_kib(p) for p in pids]
    print(f"sockets: {opened:,} open and caught up ({failed:,} failed) in "
          f"{connect_s:.1f} s ({opened / max(connect_s, 1e-9):,.0f}/s) over {len(pids)} "
          f"gateway(s), {n_loaders} load processes, compression {compression}", flush=True)
    for e in errors:
        print(f"  connect error: {e}")
    idle = idle_cpu(pids, 10.0)
    print("gateway CPU holding the sockets, nothing sent (10 s): "
          + ", ".join(f"{c * 100:.0f}%" for c in idle) + " of one core", flush=True)
    return opened, rss
