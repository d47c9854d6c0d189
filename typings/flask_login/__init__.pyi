"""Types for the parts of Flask-Login (which ships none) that labelops uses.

Names not declared here stay untyped (``Any``); declare one when the code starts to use it.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import Flask

_View = TypeVar("_View", bound=Callable[..., Any])
_Loader = TypeVar("_Loader", bound=Callable[[str], Any])

# A proxy of the signed-in user (a UserRow) or of Flask-Login's anonymous user.
current_user: Any

class LoginManager:
    login_view: str | None
    login_message_category: str
    session_protection: str | None
    def __init__(self, app: Flask | None = None, add_context_processor: bool = True) -> None: ...
    def init_app(self, app: Flask, add_context_processor: bool = True) -> None: ...
    def user_loader(self, callback: _Loader) -> _Loader: ...

def login_required(func: _View) -> _View: ...
def login_user(
    user: Any,
    remember: bool = False,
    duration: timedelta | None = None,
    force: bool = False,
    fresh: bool = True,
) -> bool: ...
def logout_user() -> bool: ...
def __getattr__(name: str) -> Any: ...
