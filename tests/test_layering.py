"""The layers' dependency direction: domain imports no framework; nothing imports web or assets."""

import ast
import subprocess
import sys
from pathlib import Path

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
