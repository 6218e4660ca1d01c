"""Domain apps never import the interfaces (api/, web/, console/): dependencies point inward."""

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "tagshare"
DOMAIN_APPS = ["nations", "people", "tags", "outbox", "matching", "imports", "sharing", "webhooks"]
INTERFACES = ("tagshare.api", "tagshare.web", "tagshare.console", "tagshare.cli")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("app", DOMAIN_APPS)
def test_domain_app_does_not_import_interfaces(app):
    offenders = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in (SRC / app).rglob("*.py")
        for name in _imports(path)
        # By whole module path: `tagshare.webhooks` is a domain app, not part of `tagshare.web`.
        if any(name == i or name.startswith(f"{i}.") for i in INTERFACES)
    ]
    assert offenders == []


WRITE_PATTERNS = [
    re.compile(
        r"\b(Person|Tagging|PersonEmail|PersonChange)\.objects\.(create|bulk_create|update)\b"
    ),
    re.compile(r"(?<!class )\bPerson\((?!models)"),
    re.compile(r"\bperson\.save\("),
]


def test_people_and_tags_are_only_written_through_services():
    """No `.save()` / `.objects.create` of Person or Tagging outside their services and migrations."""
    allowed = {
        "people/services.py",
        "people/bulk.py",
        "people/merge.py",
        "tags/services.py",
        "tags/bulk.py",
    }
    offenders = []
    for path in SRC.rglob("*.py"):
        rel = str(path.relative_to(SRC))
        if rel in allowed or "/migrations/" in rel:
            continue
        text = path.read_text()
        for pattern in WRITE_PATTERNS:
            offenders.extend(f"{rel}: {m.group(0)}" for m in pattern.finditer(text))
    assert offenders == []
