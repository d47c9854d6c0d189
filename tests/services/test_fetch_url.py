"""Reading a document from a URL: the outbound rule, redirects checked again, size and time."""

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from labelops.services.outbound import FetchError, OutboundURLError, fetch_url


class _Slow(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/no-length":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"x" * 5000)  # no Content-Length: counted while reading
            return
        self.send_response(200)
        self.send_header("Content-Length", "100")
        self.end_headers()
        for _ in range(10):  # ten bytes every 0.3 s: three seconds for the body
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            time.sleep(0.3)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def test_a_slow_body_is_cut_at_the_time_limit(server: str) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError, match="took too long"):
        fetch_url(f"http://{server}/slow", allowed_hosts=[server], max_bytes=1000, timeout=0.5)
    assert time.monotonic() - started < 2.5  # cut before the three-second body ends


def test_a_body_without_length_is_cut_at_the_size_limit(server: str) -> None:
    with pytest.raises(FetchError, match="larger than 1000 bytes"):
        fetch_url(f"http://{server}/no-length", allowed_hosts=[server], max_bytes=1000)
    fetched = fetch_url(f"http://{server}/no-length", allowed_hosts=[server], max_bytes=5000)
    assert len(fetched.stream.read()) == 5000


def test_private_addresses_are_refused_before_connecting(server: str) -> None:
    with pytest.raises(OutboundURLError, match="loopback"):
        fetch_url(f"http://{server}/no-length", max_bytes=1000)
    with pytest.raises(OutboundURLError, match="private address"):
        fetch_url("http://10.0.0.1/tasks.json", max_bytes=1000)
    with pytest.raises(OutboundURLError, match="cloud metadata"):
        fetch_url("http://[::ffff:169.254.169.254]/", max_bytes=1000)


@pytest.mark.parametrize("host", ["a" * 300, "...", "a..b"])
def test_names_idna_cannot_encode_are_refused_as_unresolvable(host: str) -> None:
    with pytest.raises(OutboundURLError, match="does not resolve"):
        fetch_url(f"http://{host}/tasks.json", max_bytes=1000)
