"""`labelops flags`: list flags, change defaults and rollouts, override for a user or project."""

from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session

from labelops.cli import main
from labelops.db.engine import make_engine
from labelops.domain.feature_flags import FlagState
from labelops.services import feature_flags as flag_service
from tests.factories import make_project, make_user

HINT = "labeling_shortcut_hint"


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LABELOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LABELOPS_DATABASE_URL", database_url)
    return CliRunner()


@pytest.fixture
def seeded(database_url: str) -> dict[str, int]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        user = make_user(session, "ann@example.com")
        project = make_project(session)
        session.commit()
        ids = {"user": user.id, "project": project.id}
    engine.dispose()
    return ids


def _state(database_url: str, key: str) -> FlagState:
    engine: sa.Engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return flag_service.get_flag(session, key)
    finally:
        engine.dispose()


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def test_set_and_list_flags(cli: CliRunner, database_url: str, seeded: dict[str, int]) -> None:
    _ok(cli.invoke(main, ["flags", "set", HINT, "--default", "on", "--rollout", "20"]))
    _ok(cli.invoke(main, ["flags", "set", HINT, "--user", "ann@example.com", "--off"]))
    _ok(cli.invoke(main, ["flags", "set", HINT, "--project", str(seeded["project"]), "--on"]))
    state = _state(database_url, HINT)
    assert state.default and state.rollout_percent == 20
    assert state.user_overrides == {seeded["user"]: False}
    assert state.project_overrides == {seeded["project"]: True}
    listed = _ok(cli.invoke(main, ["flags", "list"])).splitlines()
    assert listed[0].startswith(f"{HINT}  default=on  rollout=20%  (shipped)")
    assert listed[1:] == [
        "  user ann@example.com: off",
        f"  project {seeded['project']} (Sentiment): on",
    ]

    _ok(cli.invoke(main, ["flags", "set", HINT, "--user", "ann@example.com", "--clear"]))
    _ok(cli.invoke(main, ["flags", "set", HINT, "--no-rollout"]))
    state = _state(database_url, HINT)
    assert state.user_overrides == {} and state.rollout_percent is None

    _ok(cli.invoke(main, ["flags", "set", "beta", "--create", "--description", "Beta"]))
    assert _state(database_url, "beta").description == "Beta"
    _ok(cli.invoke(main, ["flags", "delete", "beta"]))
    assert [line.split()[0] for line in _ok(cli.invoke(main, ["flags", "list"])).splitlines()
            if not line.startswith(" ")] == [HINT]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["flags", "set", "nope", "--default", "on"], "unknown feature flag 'nope'"),
        (["flags", "set", HINT, "--rollout", "101"], "rollout must be a whole percentage"),
        (["flags", "set", HINT, "--user", "who@example.com", "--on"], "no user with email"),
        (["flags", "set", HINT, "--project", "9999", "--on"], "project 9999 not found"),
        (["flags", "set", HINT, "--user", "ann@example.com"], "needs --on, --off or --clear"),
        (["flags", "set", HINT, "--on"], "need --user EMAIL or --project ID"),
        (["flags", "set", HINT], "nothing to change"),
        (["flags", "set", HINT, "--create"], "already exists"),
        (["flags", "delete", "nope"], "unknown feature flag 'nope'"),
    ],
)
def test_bad_input_is_a_clear_error_and_changes_nothing(
    cli: CliRunner, database_url: str, seeded: dict[str, int], args: list[str], message: str
) -> None:
    result = cli.invoke(main, args)
    assert result.exit_code != 0
    assert message in result.output
    state = _state(database_url, HINT)
    assert not state.default and state.rollout_percent is None and state.user_overrides == {}
