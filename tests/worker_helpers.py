"""The background worker in tests: drain the queue deterministically, and receive webhooks.

``drain(app)`` runs every queued job and due webhook delivery in the calling thread, so a test
sees the finished state right after it. ``Receiver`` is a local HTTP server (stdlib, in a thread)
that records each webhook it gets and answers with the status codes it is told.
"""

import dataclasses
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flask import Flask

from labelops.services.worker import Worker


def worker_of(app: Flask) -> Worker:
    worker: Worker = app.extensions["labelops_worker"]
    return worker


def allow_outbound(app: Flask, *hosts: str) -> None:
    """Makes the app's settings allow outbound calls to ``hosts`` (as an administrator would).

    The settings are read once when the app is made, so the app's worker gets the same list.
    """
    settings = app.config["LABELOPS_SETTINGS"]
    app.config["LABELOPS_SETTINGS"] = dataclasses.replace(settings, outbound_host_allowlist=hosts)
    worker_of(app).allowed_hosts = hosts


def drain(app: Flask) -> None:
    """Runs every queued job and due delivery of the app's database now."""
    worker_of(app).drain()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Receiver:
    """Records webhook requests; answers ``statuses`` in turn (the last one repeats)."""

    statuses: list[int] = field(default_factory=lambda: [200])
    requests: list[Received] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    url: str = ""

    def actions(self) -> list[str]:
        return [r.body["action"] for r in self.requests]

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        """Waits until ``count`` requests arrived (the state, not a sleep)."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"{len(self.requests)} webhook(s) arrived, wanted {count}")
        return self.requests


@contextmanager
def receiver(statuses: list[int] | None = None) -> Iterator[Receiver]:
    """A running receiver on 127.0.0.1 (its ``url``), stopped afterwards."""
    state = Receiver(statuses=statuses or [200])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            with state.arrived:
                state.requests.append(Received(self.path, dict(self.headers), body))
                status = state.statuses[min(len(state.requests), len(state.statuses)) - 1]
                state.arrived.notify_all()
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/hook"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
