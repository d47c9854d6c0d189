"""The embedded web server's request handler: a socket timeout so a stalled client lets go."""

from werkzeug.serving import WSGIRequestHandler


def request_handler(timeout_seconds: float) -> type[WSGIRequestHandler]:
    """Returns a request handler class whose reads and writes time out after the given seconds.

    A client that stops reading a streamed response (an export) otherwise keeps its thread, and
    the export slot it holds, forever; with the timeout the write fails, the response is closed
    and the slot is released.
    """
    return type("TimeoutRequestHandler", (WSGIRequestHandler,), {"timeout": float(timeout_seconds)})
