"""A small keep-alive HTTP client for the benchmark (one per thread), on the standard library."""

import http.client
import json
import time
import uuid
from typing import Any
from urllib.parse import urlsplit


class Client:
    """One keep-alive connection to the server, authenticated with an API token."""

    def __init__(self, base_url: str, token: str, timeout: float = 600.0) -> None:
        parts = urlsplit(base_url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._timeout = timeout
        self._headers = {"Authorization": f"Token {token}"}
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        return self._conn

    def close(self) -> None:
        """Closes the connection (the next request opens a new one)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _send(
        self, method: str, path: str, body: bytes | None, content_type: str
    ) -> http.client.HTTPResponse:
        headers = dict(self._headers)
        if body is not None:
            headers["Content-Type"] = content_type
        # The server closes idle keep-alive connections; one that was closed under us fails
        # before the request is read, so sending it again on a new connection is safe.
        for attempt in (1, 2):
            try:
                conn = self._connection()
                conn.request(method, path, body=body, headers=headers)
                return conn.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def call(self, method: str, path: str, payload: Any = None) -> tuple[int, Any]:
        """Returns the status and the decoded JSON answer (None for an empty one)."""
        body = None if payload is None else json.dumps(payload).encode()
        response = self._send(method, path, body, "application/json")
        data = response.read()
        try:
            return response.status, json.loads(data) if data else None
        except ValueError:  # an error page, say: the status tells, the start of it shows why
            return response.status, data[:300].decode(errors="replace")

    def upload(self, path: str, filename: str, content: bytes) -> tuple[int, Any]:
        """Returns the status and JSON answer of a multipart upload of one file as ``file``."""
        boundary = uuid.uuid4().hex
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        body = head + content + f"\r\n--{boundary}--\r\n".encode()
        response = self._send("POST", path, body, f"multipart/form-data; boundary={boundary}")
        data = response.read()
        return response.status, json.loads(data) if data else None

    def download(self, path: str) -> tuple[int, float, float, int]:
        """Returns (status, seconds to the first body byte, seconds in all, bytes) of a GET."""
        started = time.perf_counter()
        response = self._send("GET", path, None, "")
        first = response.read(1)
        first_byte = time.perf_counter() - started
        size = len(first)
        while chunk := response.read(1 << 16):
            size += len(chunk)
        return response.status, first_byte, time.perf_counter() - started, size
