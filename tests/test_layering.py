"""The layers' dependency direction, and the pipeline's names tied to its definitions."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg

import labelops

PACKAGE = Path(labelops.__file__).parent
FORBIDDEN_IN_DOMAIN = ("flask", "dagster", "sqlalchemy", "boto3", "mlflow", "sklearn")


def test_domain_imports_no_framework() -> None:
    modules = sorted(
        "labelops.domain." + ".".join(p.relative_to(PACKAGE / "domain").with_suffix("").parts)
        for p in (PACKAGE / "domain").rglob("*.py")
        if p.name != "__init__.py"
    )
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"bad = sorted(n for n in sys.modules if n.split('.')[0] in {FORBIDDEN_IN_DOMAIN!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"domain pulled in: {out.stdout.strip()}"
    assert len(modules) >= 5


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_lower_layers_do_not_import_upper_layers() -> None:
    rules = {
        "domain": (
            "labelops.db",
            "labelops.services",
            "labelops.web",
            "labelops.assets",
            "labelops.resources",
        ),
        "db": (
            "labelops.services",
            "labelops.web",
            "labelops.assets",
            "labelops.resources",
            "flask",
        ),
        "services": ("labelops.web", "labelops.assets", "labelops.resources", "flask", "dagster"),
        "resources": ("labelops.web", "labelops.assets"),
    }
    offenders = []
    for layer, banned in rules.items():
        for path in (PACKAGE / layer).rglob("*.py"):
            for name in _imports(path):
                if name.startswith(banned):
                    offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert offenders == []


def test_web_and_assets_are_not_imported_by_each_other() -> None:
    offenders = [
        f"{p.relative_to(PACKAGE)} imports {n}"
        for p in (PACKAGE / "web").rglob("*.py")
        for n in _imports(p)
        if n.startswith("labelops.assets")
    ]
    offenders += [
        f"{p.relative_to(PACKAGE)} imports {n}"
        for p in (PACKAGE / "assets").rglob("*.py")
        for n in _imports(p)
        if n.startswith("labelops.web")
    ]
    assert offenders == []


# The app factory's wiring binds Flask-SQLAlchemy to the schema and engine; nothing else in web
# or assets reaches the database but through services.
DB_WIRING = {"web/extensions.py", "web/config.py", "web/cli.py", "web/background.py"}


def _annotation_nodes(tree: ast.AST) -> set[int]:
    """Returns the ids of every node inside a type annotation of the module."""
    roots: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.annotation is not None:
            roots.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns:
            roots.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            roots.append(node.annotation)
    return {id(inner) for root in roots for inner in ast.walk(root)}


def test_web_and_assets_reach_the_database_only_through_services() -> None:
    offenders = []
    for layer in ("web", "assets"):
        for path in (PACKAGE / layer).rglob("*.py"):
            name = str(path.relative_to(PACKAGE))
            if name in DB_WIRING:
                continue
            tree = ast.parse(path.read_text())
            rows: set[str] = set()
            for node in ast.walk(tree):
                if isinstance(node, ast.Import) and any(
                    a.name.startswith("labelops.db") for a in node.names
                ):
                    offenders.append(f"{name} imports labelops.db")
                elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "labelops.db"
                ):
                    if node.module != "labelops.db.models":
                        offenders.append(f"{name} imports {node.module}")
                    rows.update(a.asname or a.name for a in node.names)
            # Rows that services return may be named in type hints, never queried or built.
            hints = _annotation_nodes(tree)
            offenders += [
                f"{name}:{node.lineno} uses {node.id} outside a type hint"
                for node in ast.walk(tree)
                if isinstance(node, ast.Name) and node.id in rows and id(node) not in hints
            ]
    assert offenders == []


def _pipeline_names_used(pattern: str) -> dict[str, set[str]]:
    """Returns ``{name: files}`` of string literals matching ``pattern`` outside the wiring."""
    wiring = {"definitions.py", "jobs.py"}
    found: dict[str, set[str]] = {}
    sources = [p for p in PACKAGE.rglob("*.py") if p.name not in wiring or p.parent != PACKAGE]
    sources += list((PACKAGE / "web" / "static").rglob("*.js"))
    for path in sources:
        for name in re.findall(pattern, path.read_text()):
            found.setdefault(name, set()).add(str(path.relative_to(PACKAGE)))
    return found


def test_every_job_and_partition_named_outside_the_definitions_exists_in_them() -> None:
    from labelops.definitions import defs
    from labelops.domain.pipeline_jobs import ACTION_JOBS, PROJECT_PARTITIONS

    repo = defs.get_repository_def()
    jobs = {job.name for job in repo.get_all_jobs()}
    partitions = {
        p.name
        for job in repo.get_all_jobs()
        for p in [job.partitions_def]
        if isinstance(p, dg.DynamicPartitionsDefinition)
    }
    used = _pipeline_names_used(r"""["']([a-z][a-z_]*_job)["']""")

    assert set(ACTION_JOBS.values()) <= jobs
    # Label Studio's storage JSON names its last sync run `last_sync_job`: a field, not a job.
    not_jobs = {"last_sync_job"}
    assert {n: files for n, files in used.items() if n not in jobs | not_jobs} == {}
    assert "dataset_job" in used  # the scan reads the pages' scripts too
    assert partitions == {PROJECT_PARTITIONS}
