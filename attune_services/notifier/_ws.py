"""The WebSocket endpoint ``/ws`` (api-contract.md "Notifier").

Auth: ``Authorization: Bearer`` header or ``token`` query parameter; the subprotocol
``attune.v1`` is echoed when the client offers it. Frames: ``welcome`` first; the client sends
``subscribe`` / ``unsubscribe`` (with a ``filter``) and ``ping``; the server answers ``pong``,
``subscribed`` / ``unsubscribed`` / ``error``, and sends one ``notification`` per change.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import anyio
from quart import Quart, websocket

from attune_core.errors import AttuneError
from attune_services.notifier._hub import NotificationHub, validate_filter

SUBPROTOCOL = "attune.v1"


def install_websocket(app: Quart, hub: NotificationHub, authenticate: Any) -> None:
    """Add ``/ws`` to ``app``; ``authenticate(header, query_token)`` raises on a bad token."""

    @app.websocket("/ws")
    async def ws() -> Any:
        header = websocket.headers.get("Authorization")
        token = websocket.args.get("token")
        try:
            await authenticate(header, token)
        except AttuneError as exc:
            return (
                json.dumps({"error": exc.message, "code": exc.code}),
                401,
                {"Content-Type": "application/json"},
            )
        offered = websocket.requested_subprotocols or []
        await websocket.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
        client_id = uuid.uuid4().hex
        subscription = hub.subscribe()
        await websocket.send(
            json.dumps(
                {
                    "type": "welcome",
                    "client_id": client_id,
                    "message": "connected to the Attune notifier",
                }
            )
        )

        async def reader() -> None:
            while True:
                raw = await websocket.receive()
                await _handle(raw)

        async def _handle(raw: Any) -> None:
            try:
                message = json.loads(raw)
                kind = message.get("type")
            except (ValueError, AttributeError, TypeError):
                await _send({"type": "error", "message": "frames are JSON objects"})
                return
            if kind == "ping":
                await _send({"type": "pong"})
            elif kind in ("subscribe", "unsubscribe"):
                try:
                    wanted = validate_filter(message.get("filter"))
                except AttuneError as exc:
                    await _send({"type": "error", "message": exc.message})
                    return
                if kind == "subscribe":
                    subscription.filters.add(wanted)
                else:
                    subscription.filters.discard(wanted)
                await _send({"type": f"{kind}d", "filter": wanted})
            else:
                await _send({"type": "error", "message": f"unknown frame type {kind!r}"})

        async def _send(frame: dict[str, Any]) -> None:
            await websocket.send(json.dumps(frame, default=str))

        async def writer() -> None:
            while True:
                frame = await subscription.get_or_timeout(30.0)
                if frame is not None:
                    await _send({**frame, "type": "notification"})

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(writer)
                await reader()
                tg.cancel_scope.cancel()
        finally:
            subscription.close()
        return None
