#!/usr/bin/env python3
"""core.http_request: one HTTP request with the standard library only.

Parameters arrive as JSON on stdin (or in $ATTUNE_PARAMETER_FILE). The result is one JSON
document on stdout: {status_code, headers, body, json, elapsed_ms, url, success, error?}.

Exit codes: 0 whenever the server answered (any status; `success` says whether it was 2xx, so a
workflow can branch on `status_code`); 1 when no answer was received (connection refused, DNS,
TLS, timeout, too many redirects); 2 for invalid parameters. On exit 1 and 2 the reason is also
the last line on stderr, which becomes the execution's `error`.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
USER_AGENT = "attune-core-http-request/1.0"


class InvalidParameters(Exception):
    pass


class TooManyRedirects(Exception):
    pass


def read_parameters() -> dict[str, Any]:
    if os.environ.get("ATTUNE_PARAMETER_DELIVERY") == "file":
        with open(os.environ["ATTUNE_PARAMETER_FILE"], encoding="utf-8") as handle:
            text = handle.read()
    else:
        text = sys.stdin.read()
    document = json.loads(text) if text.strip() else {}
    if not isinstance(document, dict):
        raise InvalidParameters("the parameter document is not a JSON object")
    return document


class Redirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects up to `limit` times, or not at all."""

    def __init__(self, follow: bool, limit: int) -> None:
        self.follow = follow
        self.limit = limit
        self.count = 0
        # urllib's own loop guard must not fire before ours.
        self.max_redirections = limit + 1

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if not self.follow:
            return None  # urllib then hands back the 3xx response itself
        self.count += 1
        if self.count > self.limit:
            raise TooManyRedirects(f"too many redirects (more than {self.limit})")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def build_request(params: dict[str, Any]) -> tuple[urllib.request.Request, float, bool]:
    url = params.get("url")
    if not isinstance(url, str) or not url.strip():
        raise InvalidParameters("url is required")
    method = str(params.get("method") or "GET").upper()
    if method not in METHODS:
        raise InvalidParameters(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    query = params.get("query_params") or {}
    if not isinstance(query, dict):
        raise InvalidParameters("query_params must be an object")
    if query:
        parts = urllib.parse.urlsplit(url)
        pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        for key, value in query.items():
            values = value if isinstance(value, list) else [value]
            pairs.extend((str(key), _text(item)) for item in values)
        url = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(pairs)))
    headers_param = params.get("headers") or {}
    if not isinstance(headers_param, dict):
        raise InvalidParameters("headers must be an object")
    headers = {str(key): _text(value) for key, value in headers_param.items()}
    lowered = {key.lower() for key in headers}
    data: bytes | None = None
    if params.get("json_body") is not None:
        data = json.dumps(params["json_body"]).encode("utf-8")
        if "content-type" not in lowered:
            headers["Content-Type"] = "application/json"
    elif params.get("body") is not None:
        body = params["body"]
        data = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
    auth_type = str(params.get("auth_type") or "none").lower()
    if auth_type == "basic":
        username = params.get("auth_username")
        if username is None:
            raise InvalidParameters("auth_type basic needs auth_username")
        password = params.get("auth_password") or ""
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
    elif auth_type == "bearer":
        if not params.get("auth_token"):
            raise InvalidParameters("auth_type bearer needs auth_token")
        headers["Authorization"] = f"Bearer {params['auth_token']}"
    elif auth_type != "none":
        raise InvalidParameters(f"auth_type must be none, basic or bearer, got {auth_type!r}")
    if "user-agent" not in lowered:
        headers["User-Agent"] = USER_AGENT
    try:
        timeout = float(params.get("timeout", 30))
    except (TypeError, ValueError):
        raise InvalidParameters("timeout must be a number of seconds") from None
    if timeout <= 0:
        raise InvalidParameters("timeout must be positive")
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    return request, timeout, bool(params.get("verify_ssl", True))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _headers(message: Any) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in message.items():
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def _decode(raw: bytes, charset: str | None) -> str:
    try:
        return raw.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def perform(params: dict[str, Any]) -> tuple[dict[str, Any], int]:
    request, timeout, verify_ssl = build_request(params)
    context = ssl.create_default_context()
    if not verify_ssl:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    follow = bool(params.get("follow_redirects", True))
    try:
        limit = int(params.get("max_redirects", 10))
    except (TypeError, ValueError):
        raise InvalidParameters("max_redirects must be an integer") from None
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=context), Redirects(follow, max(0, limit))
    )
    started = time.monotonic()
    result: dict[str, Any] = {
        "status_code": None,
        "headers": {},
        "body": "",
        "json": None,
        "elapsed_ms": 0,
        "url": request.full_url,
        "success": False,
    }
    try:
        try:
            response = opener.open(request, timeout=timeout)
        except urllib.error.HTTPError as answered:
            response = answered  # 4xx/5xx (and unfollowed 3xx) are answers, not failures
        with response:
            raw = response.read()
            result["status_code"] = response.status
            result["headers"] = _headers(response.headers)
            result["url"] = response.geturl()
            charset = response.headers.get_content_charset()
            content_type = response.headers.get_content_type()
    except (urllib.error.URLError, TooManyRedirects, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        result["elapsed_ms"] = int((time.monotonic() - started) * 1000)
        result["error"] = f"request to {request.full_url} failed: {reason}"
        return result, 1
    result["elapsed_ms"] = int((time.monotonic() - started) * 1000)
    body = _decode(raw, charset)
    result["body"] = body
    if "json" in content_type or body.lstrip()[:1] in ("{", "["):
        try:
            result["json"] = json.loads(body)
        except ValueError:
            result["json"] = None
    result["success"] = 200 <= int(result["status_code"]) < 300
    return result, 0


def main() -> int:
    try:
        params = read_parameters()
        result, code = perform(params)
    except (InvalidParameters, ValueError) as exc:
        print(json.dumps({"success": False, "error": str(exc)}))
        print(f"invalid parameters: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    if code != 0:
        print(result["error"], file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
