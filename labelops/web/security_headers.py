"""Security headers on every response: Content-Security-Policy, framing, sniffing, referrer.

The policy allows scripts only from this site's own files (no inline script, no ``eval``), so a
script that slips into a page through task data cannot run; the one exception is the import map
of ``static_assets``, allowed by its hash. Styles may be inline: the templates
use ``style`` attributes and the labeling config's ``<Style>`` tag becomes a ``<style>`` element;
an inline style cannot run script. Task media (images, audio, video, time series, pages shown by
``<HyperText valueType="url">`` in a sandboxed frame) may live on any http(s) host, as in Label
Studio. A response that sets its own policy (uploaded media is served sandboxed) keeps it.

``SECURITY_CSP`` in the app config replaces the policy (an operator adding a CDN, say).
"""

from flask import Flask, Response, request

from labelops.web.static_assets import current as static_assets

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob: http: https:",
        "media-src 'self' data: blob: http: https:",
        "connect-src 'self' http: https:",
        "frame-src 'self' http: https:",
        "font-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def register_security_headers(app: Flask) -> None:
    """Adds the Content-Security-Policy and the other security headers to every response."""
    policy = app.config.get("SECURITY_CSP") or CONTENT_SECURITY_POLICY
    assets = static_assets(app)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        page_policy = policy
        if assets is not None:
            _, source = assets.import_map(request.script_root)
            page_policy = with_script_source(policy, source)
        response.headers.setdefault("Content-Security-Policy", page_policy)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def with_script_source(policy: str, source: str) -> str:
    """Returns the policy with ``source`` added to its ``script-src`` (or a new ``script-src``)."""
    directives = [part.strip() for part in policy.split(";") if part.strip()]
    for i, directive in enumerate(directives):
        if directive.split()[0] == "script-src":
            directives[i] = f"{directive} {source}"
            return "; ".join(directives)
    return "; ".join([*directives, f"script-src 'self' {source}"])
