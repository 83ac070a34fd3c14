"""The webhook receiver: an HTTP body in, one event out (api-contract.md "Triggers, sensors,
webhooks").

Rules of this file:

1. The checks run in exactly the contract's order, and the first failing one decides the
   answer: body is the wrapper ``{"payload": ...}`` (400), key known and not revoked (404),
   trigger enabled (400), ``payload_size_limit_kb`` (400), ``ip_whitelist`` (403),
   ``rate_limit`` (429), ``hmac`` (401). Each failure is an :class:`AttuneError` subclass the
   API maps to that status.
2. The client address is the first ``X-Forwarded-For`` entry, else ``X-Real-IP``, else the
   peer; allow-list entries are addresses or CIDR networks (IPv4 and IPv6).
3. Signatures are ``<sha256|sha512>=<hex HMAC of the raw body>`` in ``X-Webhook-Signature``
   or ``X-Hub-Signature-256``, compared in constant time (``hmac.compare_digest``).
4. Rate limits count the requests accepted per trigger (the events stored from its webhook,
   ``event.config.source = "webhook"``) in a sliding window on the Clock. The database is the
   counter, so the limit holds across all the processes receiving webhooks; requests admitted
   at the same instant on different processes may exceed it by the number in flight.
5. A malformed ``webhook_config`` never crashes the receiver: a broken allow-list entry matches
   nothing, an enabled ``hmac`` without a usable secret or algorithm refuses every request.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs

from attune_core.engine._events import EventIntake
from attune_core.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    ValidationError,
)
from attune_core.model import Event, Trigger
from attune_core.ports import Bus, Clock
from attune_core.security import SecretBox
from attune_core.storage import Store

__all__ = ["WebhookReceipt", "WebhookReceiver", "check_webhook_config"]

SIGNATURE_HEADERS = ("x-webhook-signature", "x-hub-signature-256")
_ALGORITHMS = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}


@attrs.frozen
class WebhookReceipt:
    """What the receiver answers on success (the ``data`` of the 200 response)."""

    event_id: int
    trigger_ref: str
    received_at: datetime
    message: str = "Webhook received successfully"

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of the API response."""
        return {
            "event_id": self.event_id,
            "trigger_ref": self.trigger_ref,
            "received_at": self.received_at.isoformat(),
            "message": self.message,
        }


def _section(config: Mapping[str, Any] | None, name: str) -> Mapping[str, Any] | None:
    """An enabled section of ``webhook_config`` (``None`` when absent or disabled)."""
    if not isinstance(config, Mapping):
        return None
    section = config.get(name)
    if isinstance(section, Mapping) and section.get("enabled") is True:
        return section
    return None


def check_webhook_config(config: Any) -> dict[str, Any]:
    """Validate a ``webhook_config`` before it is stored.

    Raises:
        ValidationError: a section has the wrong shape (the message names it).
    """
    if config is None:
        return {}
    if not isinstance(config, Mapping):
        raise ValidationError("webhook_config must be an object", field="webhook_config")
    limit = config.get("payload_size_limit_kb")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValidationError(
            "payload_size_limit_kb must be an integer >= 1", field="payload_size_limit_kb"
        )
    allow = config.get("ip_whitelist")
    if allow is not None:
        ips = allow.get("ips") if isinstance(allow, Mapping) else None
        if not isinstance(ips, list):
            raise ValidationError("ip_whitelist needs {enabled, ips: [...]}", field="ip_whitelist")
        for entry in ips:
            try:
                ipaddress.ip_network(str(entry), strict=False)
            except ValueError:
                raise ValidationError(
                    f"ip_whitelist entry {entry!r} is not an address or CIDR network",
                    field="ip_whitelist",
                ) from None
    rate = config.get("rate_limit")
    if rate is not None:
        if not isinstance(rate, Mapping):
            raise ValidationError("rate_limit must be an object", field="rate_limit")
        for name in ("requests", "window_seconds"):
            value = rate.get(name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValidationError(f"rate_limit.{name} must be an integer >= 1", field=name)
    signing = config.get("hmac")
    if signing is not None:
        if not isinstance(signing, Mapping):
            raise ValidationError("hmac must be an object", field="hmac")
        if signing.get("enabled") is True and not (
            isinstance(signing.get("secret"), str) and signing["secret"]
        ):
            raise ValidationError("hmac.secret must be a non-empty string", field="hmac")
        if signing.get("algorithm", "sha256") not in _ALGORITHMS:
            raise ValidationError("hmac.algorithm must be sha256 or sha512", field="hmac")
    return dict(config)


def client_ip(headers: Mapping[str, str], peer_ip: str | None) -> str | None:
    """The caller's address: X-Forwarded-For (first), then X-Real-IP, then the peer."""
    forwarded = headers.get("x-forwarded-for")
    if forwarded:
        first = forwarded.split(",")[0].strip()
        if first:
            return first
    real = headers.get("x-real-ip")
    if real and real.strip():
        return real.strip()
    return peer_ip


def _allowed(ip: str | None, entries: Any) -> bool:
    if ip is None or not isinstance(entries, list):
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    for entry in entries:
        try:
            if address in ipaddress.ip_network(str(entry), strict=False):
                return True
        except (ValueError, TypeError):
            continue
    return False


def _signature_ok(raw_body: bytes, headers: Mapping[str, str], signing: Mapping[str, Any]) -> bool:
    secret = signing.get("secret")
    algorithm = signing.get("algorithm", "sha256")
    if not isinstance(secret, str) or not secret or algorithm not in _ALGORITHMS:
        return False
    given = next((headers[h] for h in SIGNATURE_HEADERS if headers.get(h)), None)
    if given is None or "=" not in given:
        return False
    prefix, _, digest = given.strip().partition("=")
    if prefix.lower() != algorithm:
        return False
    expected = hmac.new(secret.encode(), raw_body, _ALGORITHMS[algorithm]).hexdigest()
    return hmac.compare_digest(expected.encode(), digest.strip().lower().encode())


class WebhookReceiver:
    """Checks and turns webhook requests into events (see the module rules)."""

    def __init__(
        self,
        store: Store,
        bus: Bus,
        clock: Clock,
        *,
        secret_box: SecretBox | None = None,
        intake: EventIntake | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._intake = intake or EventIntake(store, bus, clock, secret_box=secret_box)

    async def receive(
        self,
        key: str,
        raw_body: bytes | str,
        headers: Mapping[str, str] | None = None,
        peer_ip: str | None = None,
    ) -> WebhookReceipt:
        """Check one request and store its event (fanned out to the trigger's rules).

        Raises:
            BadRequest: not the wrapper body, disabled trigger, body over the size limit.
            NotFound: unknown or revoked key.
            Forbidden: caller not in the IP allow-list.
            TooManyRequests: rate limit exceeded.
            Unauthorized: missing or wrong HMAC signature.
        """
        body = raw_body.encode() if isinstance(raw_body, str) else bytes(raw_body)
        lowered = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise BadRequest('the body must be JSON: {"payload": <any JSON>}') from None
        if not isinstance(document, dict) or "payload" not in document:
            raise BadRequest('the body must be an object with a "payload" field')
        async with self._store.read() as uow:
            trigger: Trigger | None = await uow.triggers.find_by_webhook_key(key)
        if trigger is None or not trigger.webhook_key:
            raise NotFound("webhook not found")
        if not trigger.enabled or not trigger.webhook_enabled:
            raise BadRequest(f"trigger {trigger.ref} is disabled")
        config = trigger.webhook_config or {}
        limit = config.get("payload_size_limit_kb") if isinstance(config, Mapping) else None
        if isinstance(limit, int) and not isinstance(limit, bool) and len(body) > limit * 1024:
            raise BadRequest(f"payload too large: {len(body)} bytes (limit {limit} KB)")
        allow = _section(config, "ip_whitelist")
        if allow is not None and not _allowed(client_ip(lowered, peer_ip), allow.get("ips")):
            raise Forbidden("the caller's address is not allowed")
        rate = _section(config, "rate_limit")
        if rate is not None and not await self._within_rate(trigger, rate):
            raise TooManyRequests("rate limit exceeded")
        signing = _section(config, "hmac")
        if signing is not None and not _signature_ok(body, lowered, signing):
            raise Unauthorized("invalid or missing webhook signature")
        event = await self._store_event(trigger, document["payload"])
        assert event.id is not None and event.created is not None
        return WebhookReceipt(event.id, trigger.ref, event.created)

    async def _within_rate(self, trigger: Trigger, rate: Mapping[str, Any]) -> bool:
        """Fewer than ``requests`` webhook events of the trigger in the last ``window_seconds``.

        The counter is the event table itself (events stored from webhooks), so the limit holds
        across every process receiving the trigger's webhooks; requests admitted at the same
        instant on different processes may exceed it by the number in flight.
        """
        requests, window = rate.get("requests"), rate.get("window_seconds")
        if not isinstance(requests, int) or not isinstance(window, (int, float)) or window <= 0:
            return True
        since = self._clock.now() - timedelta(seconds=window)
        async with self._store.read() as uow:
            received = await uow.events.count_webhook_events(trigger.ref, since=since)
        return received < requests

    async def _store_event(self, trigger: Trigger, payload: Any) -> Event:
        # config.source = "webhook": what the rate limit counts.
        return await self._intake.fire(trigger.ref, payload, config={"source": "webhook"})
