"""The HTTP client of the CLI: base URL, bearer token, transparent refresh, error envelopes.

Rules of this file:

1. Every request goes through :meth:`ApiClient.request`. A 401 on a request that carried a
   stored token is answered once by ``POST /auth/refresh`` with the refresh token; the new pair
   is saved and the request repeated. A second 401 (or a failed refresh) is an
   :class:`ApiError` telling the user to log in again.
2. An error response becomes one :class:`ApiError` carrying the API's own message and code
   (``{"error", "code", "details"?}``); its :attr:`ApiError.exit_code` is what the process
   exits with (see :data:`EXIT_CODES`). Network failures are ``ApiError`` too (code
   ``UNREACHABLE``), never a traceback; an idempotent request (:data:`IDEMPOTENT`) whose
   connection dropped before the answer is sent again once first.
3. Envelopes are unwrapped here: :meth:`get`/:meth:`post`/... return ``data`` of
   ``{"data": ...}``; :meth:`page` returns a :class:`Page` of ``{"items", "pagination"}``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs
import httpx

from attune_core.errors import AttuneError

__all__ = [
    "EXIT_AUTH",
    "EXIT_CODES",
    "EXIT_FAILED",
    "EXIT_NOT_FOUND",
    "EXIT_TIMEOUT",
    "EXIT_UNREACHABLE",
    "ApiClient",
    "ApiError",
    "Page",
]

EXIT_FAILED = 1  # the operation failed (bad input, conflict, failed execution, server error)
EXIT_USAGE = 2  # usage or configuration error (also click's own usage errors)
EXIT_AUTH = 3  # not logged in, session expired, or not allowed
EXIT_NOT_FOUND = 4  # the thing named does not exist
EXIT_UNREACHABLE = 5  # the API could not be reached
EXIT_TIMEOUT = 6  # gave up waiting (--timeout) while the execution went on

EXIT_CODES: dict[str, int] = {
    "UNAUTHORIZED": EXIT_AUTH,
    "FORBIDDEN": EXIT_AUTH,
    "NOT_FOUND": EXIT_NOT_FOUND,
    "UNREACHABLE": EXIT_UNREACHABLE,
    "TIMEOUT": EXIT_TIMEOUT,
    "USAGE": EXIT_USAGE,
}

# Methods sent again once when the connection drops before the answer (rule 2).
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

_STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    422: "VALIDATION_ERROR",
    429: "TOO_MANY_REQUESTS",
    501: "NOT_IMPLEMENTED",
}


class ApiError(AttuneError):
    """An error answered by the API (or the failure to reach it).

    Attributes:
        message: The API's ``error`` text (or what went wrong on the way).
        code: The API's ``code`` (``NOT_FOUND``...), or ``UNREACHABLE``/``TIMEOUT``/``FAILED``.
        status: HTTP status, when there was a response.
        details: The API's ``details``, when given.
    """

    def __init__(
        self, message: str, *, code: str = "FAILED", status: int | None = None, details: Any = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.details = details

    @property
    def exit_code(self) -> int:
        """The process exit code for this error."""
        return EXIT_CODES.get(self.code, EXIT_FAILED)

    def to_dict(self) -> dict[str, Any]:
        """The error as ``-o json|yaml`` prints it (the API's envelope shape)."""
        data: dict[str, Any] = {"error": self.message, "code": self.code}
        if self.status is not None:
            data["status"] = self.status
        if self.details is not None:
            data["details"] = self.details
        return data


@attrs.frozen
class Page:
    """One page of a list endpoint."""

    items: list[dict[str, Any]]
    pagination: dict[str, Any]


def error_from_response(response: httpx.Response) -> ApiError:
    """Build the :class:`ApiError` for an error response (envelope or not)."""
    code = _STATUS_CODES.get(response.status_code, "INTERNAL_SERVER_ERROR")
    message = response.reason_phrase or f"HTTP {response.status_code}"
    details = None
    try:
        body = response.json()
    except ValueError:
        body = None
        text = response.text.strip()
        if text:
            message = text.splitlines()[0][:300]
    if isinstance(body, dict) and "error" in body:
        message = str(body["error"])
        code = str(body.get("code") or code)
        details = body.get("details")
    if details:
        message = _with_details(message, details)
    return ApiError(message, code=code, status=response.status_code, details=details)


def _with_details(message: str, details: Any) -> str:
    """Append per-item details (``[{path, line, message}]``) when they add information."""
    if not isinstance(details, list):
        return message
    parts = []
    for item in details[:5]:
        if isinstance(item, dict) and item.get("message"):
            where = item.get("path") or item.get("field") or ""
            line = f" (line {item['line']})" if item.get("line") else ""
            text = f"{where}{line}: {item['message']}" if where else str(item["message"])
            if text not in message:
                parts.append(text)
    return f"{message} ({'; '.join(parts)})" if parts else message


TokenSaver = Callable[[str, str | None], None]


class ApiClient:
    """A synchronous client of the Attune API.

    Args:
        base_url: Root URL of the server (``/api/v1`` paths are joined to it).
        access_token: Bearer token sent with every request.
        refresh_token: Used once per request when the server answers 401.
        on_tokens: Called with the new ``(access, refresh)`` pair after a refresh.
        timeout: Seconds per request.
        verbose: Print each request and its status on stderr.
        transport: An httpx transport (tests may pass one; default: the network).
    """

    def __init__(
        self,
        base_url: str,
        *,
        access_token: str | None = None,
        refresh_token: str | None = None,
        on_tokens: TokenSaver | None = None,
        timeout: float = 30.0,
        verbose: bool = False,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.access_token = access_token
        self.refresh_token = refresh_token
        self._on_tokens = on_tokens
        self._verbose = verbose
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # -- raw requests -----------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        if self.access_token:
            return {"Authorization": f"Bearer {self.access_token}"}
        return {}

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            try:
                response = self._http.request(method, path, headers=self._headers(), **kwargs)
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                if method.upper() not in IDEMPOTENT:
                    raise
                # A kept-alive connection the server dropped as the request went out: a
                # request that changes nothing when repeated is sent again, once, on a new one.
                response = self._http.request(method, path, headers=self._headers(), **kwargs)
        except httpx.TimeoutException as exc:
            raise ApiError(
                f"the API at {self.base_url} did not answer in time ({exc.__class__.__name__})",
                code="UNREACHABLE",
            ) from exc
        except httpx.HTTPError as exc:
            raise ApiError(
                f"cannot reach the API at {self.base_url}: {exc}", code="UNREACHABLE"
            ) from exc
        if self._verbose:
            print(f"{method} {path} -> {response.status_code}", file=sys.stderr)
        return response

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request; refresh the token once on 401; raise :class:`ApiError` on errors.

        Args:
            method: HTTP method.
            path: Path under the base URL (``/api/v1/packs``).
            **kwargs: Passed to :meth:`httpx.Client.request` (``json``, ``params``, ``files``).

        Returns:
            The successful response.
        """
        response = self._send(method, path, **kwargs)
        if (
            response.status_code == 401
            and self.access_token
            and self.refresh_token
            and self._refresh()
        ):
            response = self._send(method, path, **kwargs)
        if response.status_code == 401 and self.access_token:
            error = error_from_response(response)
            raise ApiError(
                f"{error.message}: your session has expired or is invalid; run 'attune auth login'",
                code="UNAUTHORIZED",
                status=401,
            )
        if response.status_code == 401 and not path.startswith("/auth/"):
            error = error_from_response(response)
            raise ApiError(
                f"{error.message} (not logged in: run 'attune auth login')",
                code=error.code,
                status=401,
            )
        if response.status_code >= 400:
            raise error_from_response(response)
        return response

    def _refresh(self) -> bool:
        response = self._http.post(
            "/auth/refresh", json={"refresh_token": self.refresh_token}, headers={}
        )
        if response.status_code != 200:
            return False
        data = response.json().get("data") or {}
        self.access_token = data.get("access_token")
        self.refresh_token = data.get("refresh_token") or self.refresh_token
        if self._verbose:
            print("access token refreshed", file=sys.stderr)
        if self._on_tokens is not None and self.access_token:
            self._on_tokens(self.access_token, self.refresh_token)
        return bool(self.access_token)

    def refresh(self) -> dict[str, Any]:
        """Exchange the refresh token for a new pair now.

        Returns:
            The token response (``access_token``, ``refresh_token``, ``expires_in``...).
        """
        if not self.refresh_token:
            raise ApiError("no refresh token stored: run 'attune auth login'", code="UNAUTHORIZED")
        response = self._send("POST", "/auth/refresh", json={"refresh_token": self.refresh_token})
        if response.status_code >= 400:
            error = error_from_response(response)
            raise ApiError(
                f"{error.message}: run 'attune auth login'", code=error.code, status=error.status
            )
        data: dict[str, Any] = response.json().get("data") or {}
        self.access_token = data.get("access_token")
        self.refresh_token = data.get("refresh_token") or self.refresh_token
        if self._on_tokens is not None and self.access_token:
            self._on_tokens(self.access_token, self.refresh_token)
        return data

    # -- envelopes --------------------------------------------------------------------------

    @staticmethod
    def _data(response: httpx.Response) -> Any:
        if not response.content:
            return None
        body = response.json()
        if isinstance(body, dict) and "data" in body:
            data = body["data"]
            if data is None and "message" in body:
                return {k: v for k, v in body.items() if k != "data"}
            return data
        return body

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """``GET`` and unwrap ``{"data": ...}``."""
        return self._data(self.request("GET", path, params=_clean(params)))

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        """``POST`` a JSON body (or ``files=``/``data=``) and unwrap ``{"data": ...}``."""
        if "files" in kwargs or "data" in kwargs:
            return self._data(self.request("POST", path, **kwargs))
        return self._data(self.request("POST", path, json=body if body is not None else {}))

    def put(self, path: str, body: Any) -> Any:
        """``PUT`` a JSON body and unwrap ``{"data": ...}``."""
        return self._data(self.request("PUT", path, json=body))

    def delete(self, path: str) -> Any:
        """``DELETE``; returns the API's body (``{"success", "message"}``)."""
        response = self.request("DELETE", path)
        return response.json() if response.content else {}

    def page(self, path: str, params: Mapping[str, Any] | None = None) -> Page:
        """``GET`` a list endpoint: one :class:`Page`."""
        body = self.request("GET", path, params=_clean(params)).json()
        if isinstance(body, list):
            return Page(items=body, pagination={})
        return Page(items=list(body.get("items") or []), pagination=body.get("pagination") or {})

    def download(self, path: str) -> httpx.Response:
        """``GET`` a raw body (artifact downloads)."""
        return self.request("GET", path)

    def sse(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Follow a server-sent-events endpoint; yield each ``data:`` frame (JSON).

        Stops at an ``event: end`` frame or when the server closes the stream.
        """
        try:
            with self._http.stream(
                "GET", path, params=_clean(params), headers=self._headers(), timeout=None
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise error_from_response(response)
                event = "message"
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        if event == "end":
                            return
                        try:
                            frame = json.loads(line[5:].strip())
                        except ValueError:
                            continue
                        if isinstance(frame, dict):
                            yield frame
                    elif not line:
                        event = "message"
        except httpx.HTTPError as exc:
            raise ApiError(
                f"lost the stream from {self.base_url}: {exc}", code="UNREACHABLE"
            ) from exc


def _clean(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Drop unset query parameters; booleans as ``true``/``false``."""
    if params is None:
        return None
    clean: dict[str, Any] = {}
    for key, value in params.items():
        if value is None or value == ():
            continue
        clean[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return clean
