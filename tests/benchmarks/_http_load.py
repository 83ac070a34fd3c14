"""A small HTTP load generator, run as its own process by bench_api.py.

``python tests/benchmarks/_http_load.py URL METHOD PATH --concurrency N --duration S
[--body JSON]`` with ``ATTUNE_BENCH_TOKEN`` in the environment (sent as a Bearer token).
Keeps N requests in flight over N keep-alive connections for S seconds (after a one-second
warm-up) and prints one JSON line: requests, errors, req/s, p50/p99/max latency in ms.

Why not httpx: on a 2-core machine the load generator shares the CPU with the server, and
httpx spends ~1 ms of CPU per request (more than the server spends on ``/health``), so it
measured itself. Here each connection is an asyncio stream speaking HTTP/1.1 through h11 (the
sans-I/O parser Hypercorn itself uses); the request bytes are built once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import time
from urllib.parse import urlsplit

import h11


async def read_response(reader: asyncio.StreamReader, conn: h11.Connection) -> tuple[int, bytes]:
    """Read one response from ``conn``'s stream: its status and body."""
    status, chunks = 0, []
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            received = await reader.read(65536)
            if not received:
                raise ConnectionError("the server closed the connection")
            conn.receive_data(received)
        elif isinstance(event, h11.Response):
            status = event.status_code
        elif isinstance(event, h11.Data):
            chunks.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            return status, b"".join(chunks)


class KeepAliveClient:
    """HTTP/1.1 requests over keep-alive connections (h11), as cheap for the CPU as the load
    generator's own: for a benchmark that posts distinct bodies from inside its process.
    Connections are reused one request at a time and opened as concurrency needs them."""

    def __init__(self, url: str, headers: list[tuple[str, str]]) -> None:
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._headers = [("Host", f"{self._host}:{self._port}"), *headers]
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, h11.Connection]] = []

    async def request(self, method: str, target: str, body: bytes = b"") -> tuple[int, bytes]:
        """Send one request; its status and body."""
        if self._idle:
            reader, writer, conn = self._idle.pop()
        else:
            reader, writer = await asyncio.open_connection(self._host, self._port)
            conn = h11.Connection(h11.CLIENT)
        headers = self._headers
        if body:
            headers = [*headers, ("Content-Type", "application/json")]
            headers.append(("Content-Length", str(len(body))))
        data = conn.send(h11.Request(method=method, target=target, headers=headers))
        data += (conn.send(h11.Data(data=body)) if body else b"") + (
            conn.send(h11.EndOfMessage()) or b""
        )
        writer.write(data)
        status, answer = await read_response(reader, conn)
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
            self._idle.append((reader, writer, conn))
        else:  # the server closes it (Hypercorn after 1,000 requests)
            writer.close()
        return status, answer

    async def close(self) -> None:
        while self._idle:
            _, writer, _ = self._idle.pop()
            writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("method")
    parser.add_argument("path")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--body", default=None)
    args = parser.parse_args()
    url = urlsplit(args.url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    headers = [("Host", f"{host}:{port}"), ("Connection", "keep-alive")]
    token = os.environ.get("ATTUNE_BENCH_TOKEN")
    if token:
        headers.append(("Authorization", f"Bearer {token}"))
    body = json.dumps(json.loads(args.body)).encode() if args.body else b""
    if args.body:
        headers += [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    measure_from = start + args.warmup
    stop = measure_from + args.duration

    async def loop() -> None:
        nonlocal errors
        while time.perf_counter() < stop:
            # Hypercorn closes a keep-alive connection after 1,000 requests
            # (keep_alive_max_requests): open the next one, as any client would.
            await connection()

    async def connection() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        conn = h11.Connection(h11.CLIENT)
        request = conn.send(h11.Request(method=args.method, target=args.path, headers=headers))
        request += conn.send(h11.Data(data=body)) if body else b""
        request += conn.send(h11.EndOfMessage()) or b""
        try:
            while True:
                sent = time.perf_counter()
                if sent >= stop:
                    return
                writer.write(request)
                status, _ = await read_response(reader, conn)
                done = time.perf_counter()
                if sent >= measure_from:
                    latencies.append(done - sent)
                    if status >= 400:
                        errors += 1
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    return  # the server asked to close
                # Keep-alive: the request bytes of the first cycle are valid for every cycle
                # (h11 only needs to see them to track the state).
                conn.start_next_cycle()
                conn.send(h11.Request(method=args.method, target=args.path, headers=headers))
                if body:
                    conn.send(h11.Data(data=body))
                conn.send(h11.EndOfMessage())
        finally:
            writer.close()

    await asyncio.gather(*(loop() for _ in range(args.concurrency)))
    ordered = sorted(latencies)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime

    def pct(p: float) -> float:
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000

    print(
        json.dumps(
            {
                "requests": len(ordered),
                "errors": errors,
                "rps": len(ordered) / args.duration,
                "p50_ms": pct(50),
                "p99_ms": pct(99),
                "max_ms": ordered[-1] * 1000 if ordered else 0.0,
                "concurrency": args.concurrency,
                # the generator's own CPU per request (warm-up included): what it takes from
                # the server on a shared machine
                "client_cpu_ms": cpu * 1000 / max(1, len(ordered)),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
