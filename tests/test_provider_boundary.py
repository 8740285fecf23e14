"""Nothing outside meetings/providers imports a provider's own package or module: services, tasks,
views, admin and the rest reach providers through providers/base.py and the registry only."""

import ast
from pathlib import Path

from meetings.providers import PROVIDERS

ROOT = Path(__file__).resolve().parents[1]
APPS = ("accounts", "meetings", "portal")


def imported_modules(path: Path) -> list[str]:
    """Dotted names this file imports, relative imports resolved against its package."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            names += [f"{base}.{alias.name}" for alias in node.names] + [base]
    return names


def test_only_the_providers_package_imports_a_provider():
    own = {f"meetings.providers.{key}" for key in PROVIDERS}
    offenders = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith("meetings/providers/") or "/migrations/" in relative:
                continue
            for name in imported_modules(path):
                if any(name == module or name.startswith(module + ".") for module in own):
                    offenders.append(f"{relative} imports {name}")
    assert offenders == []


def test_the_check_sees_an_import_of_a_provider():
    # The walk itself must notice the kind of import it forbids, relative or absolute.
    sample = ROOT / "meetings" / "services" / "sync.py"
    assert "meetings.providers.get_provider" in imported_modules(sample)
