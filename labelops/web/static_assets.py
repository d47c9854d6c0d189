"""Static files under content-versioned URLs, which browsers keep for a year without asking again.

At start-up every file of the static folder gets a version: the first 12 hex digits of its
SHA-256. ``url_for("static", ...)`` adds it as ``?v=``, and a static response whose ``v`` is the
file's current version is sent with ``Cache-Control: public, max-age=31536000, immutable``; any
other static response (no ``v``, an old one) keeps Flask's default of asking every time.

The front end is ES modules without a build step, so a module's own ``import "./render.js"``
cannot carry a version. Every page therefore holds an import map that sends each module's plain
URL to its versioned one; the map is an inline script, so its hash joins the
Content-Security-Policy's ``script-src`` (no other inline script is allowed). Together, a second
visit to the labeling page loads its twenty-odd modules from the browser's cache with no request,
and a deploy that changes a module changes its URL.

In debug mode (files edited while the server runs) nothing is versioned.
"""

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from markupsafe import Markup

YEAR_SECONDS = 365 * 24 * 3600


@dataclass
class StaticAssets:
    """The static folder's versions and, per script root, the import map built from them."""

    url_path: str
    versions: dict[str, str]
    _maps: dict[str, tuple[str, str]] = field(default_factory=dict)

    def import_map(self, script_root: str) -> tuple[str, str]:
        """Returns the import map's JSON text and its CSP source (``'sha256-…'``)."""
        if script_root not in self._maps:
            base = f"{script_root}{self.url_path}/"
            imports = {
                f"{base}{name}": f"{base}{name}?v={version}"
                for name, version in self.versions.items()
                if name.endswith(".js")
            }
            text = json.dumps({"imports": imports}, separators=(",", ":"), sort_keys=True)
            digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
            self._maps[script_root] = (text, f"'sha256-{digest}'")
        return self._maps[script_root]

    def modules(self, prefix: str) -> list[str]:
        """Returns the static names of the ES modules under ``prefix`` (for modulepreload)."""
        return [n for n in self.versions if n.startswith(prefix) and n.endswith(".js")]


def static_versions(folder: Path) -> dict[str, str]:
    """Returns each file's name under ``folder`` (with '/') and its content version."""
    versions: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            versions[path.relative_to(folder).as_posix()] = digest
    return versions


class StaticFreeSessionInterface(SecureCookieSessionInterface):
    """Flask's cookie session, never written on a static file's response.

    Whatever reads the session during a static request (the login manager, the rate limiter)
    would make Flask add ``Vary: Cookie`` and maybe a refreshed cookie; browsers then miss their
    cached copy whenever the session cookie changed, which it does on every sign-in and submit.
    A static file does not depend on the session, so its response says nothing about it.
    """

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Saves the session as Flask does, except on a static file's response."""
        if request.endpoint == "static":
            return
        super().save_session(app, session, response)


def current(app: Flask) -> StaticAssets | None:
    """Returns the app's versioned static assets, or None when versioning is off."""
    assets = app.extensions.get("labelops_static_assets")
    return assets if isinstance(assets, StaticAssets) else None


def register_static_assets(app: Flask) -> None:
    """Versions static URLs, caches versioned responses and gives templates the import map."""
    app.session_interface = StaticFreeSessionInterface()
    if app.debug or app.static_folder is None or app.static_url_path is None:
        app.jinja_env.globals.update(
            import_map_script=lambda: Markup(""), static_modules=lambda prefix: []
        )
        return
    assets = StaticAssets(app.static_url_path, static_versions(Path(app.static_folder)))
    app.extensions["labelops_static_assets"] = assets

    @app.url_defaults
    def _add_version(endpoint: str, values: dict[str, object]) -> None:
        if endpoint == "static" and "v" not in values:
            version = assets.versions.get(str(values.get("filename", "")))
            if version is not None:
                values["v"] = version

    @app.after_request
    def _cache_versioned(response: Response) -> Response:
        if request.endpoint == "static" and response.status_code in (200, 304):
            name = str((request.view_args or {}).get("filename", ""))
            if request.args.get("v") and request.args.get("v") == assets.versions.get(name):
                response.cache_control.public = True
                response.cache_control.max_age = YEAR_SECONDS
                response.cache_control.immutable = True
                response.cache_control.no_cache = None
        return response

    def import_map_script() -> Markup:
        text, _ = assets.import_map(request.script_root)
        # The text is JSON of this app's own static paths: nothing in it comes from a user.
        return Markup(f'<script type="importmap">{text}</script>')

    app.jinja_env.globals.update(import_map_script=import_map_script, static_modules=assets.modules)
