"""``/api/version`` in Label Studio's shape: its clients (the SDK first) read the edition there.

``release`` is the Label Studio release whose API labelops follows, so a client that gates a call
on the server's version sees the API it gets; labelops' own version is under ``labelops``. The
edition is "Community": Label Studio's SDK then uses the Community export calls.
"""

from typing import Any

from flask import Blueprint, jsonify

import labelops

LABEL_STUDIO_API_RELEASE = "1.23.2"

bp = Blueprint("api_version", __name__, url_prefix="/api")


@bp.get("/version")
def version() -> Any:
    """Returns the server's version and edition (no sign-in needed, as in Label Studio)."""
    release = LABEL_STUDIO_API_RELEASE
    return jsonify(
        {
            "release": release,
            "edition": "Community",
            "label-studio-os-package": {
                "version": release,
                "short_version": ".".join(release.split(".")[:2]),
                "latest_version_from_pypi": release,
                "latest_version_upload_time": None,
                "current_version_is_outdated": False,
            },
            "label-studio-os-backend": {
                "message": f"labelops {labelops.__version__}",
                "commit": "",
                "date": "",
                "branch": "",
                "version": labelops.__version__,
            },
            "label-studio-frontend": {"version": labelops.__version__},
            "label-studio-converter": {"version": labelops.__version__},
            "lsf": {"version": labelops.__version__},
            "dm2": {"version": labelops.__version__},
            "backend": {"name": "labelops", "version": labelops.__version__},
            "labelops": {"version": labelops.__version__},
        }
    )
