"""A small HTTP load generator, run as its own process by bench_api.py.

``python tests/benchmarks/_http_load.py URL METHOD PATH --concurrency N --duration S
[--body JSON]`` with ``ATTUNE_BENCH_TOKEN`` in the environment (sent as a Bearer token).
Keeps N requests in flight over N keep-alive connections for S seconds (after a one-second
warm-up) and prints one JSON line: requests, errors, req/s, p50/p99/max latency in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time

import httpx


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
    headers = {}
    token = os.environ.get("ATTUNE_BENCH_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.loads(args.body) if args.body else None
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    async with httpx.AsyncClient(
        base_url=args.url, headers=headers, limits=limits, timeout=30
    ) as client:
        start = time.perf_counter()
        measure_from = start + args.warmup
        stop = measure_from + args.duration

        async def loop() -> None:
            nonlocal errors
            while True:
                sent = time.perf_counter()
                if sent >= stop:
                    return
                response = await client.request(args.method, args.path, json=body)
                done = time.perf_counter()
                if sent >= measure_from:
                    latencies.append(done - sent)
                    if response.status_code >= 400:
                        errors += 1

        await asyncio.gather(*(loop() for _ in range(args.concurrency)))
    ordered = sorted(latencies)

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
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
