"""The shape of the code, checked: module sizes, import direction, private names.

These read the source (``ast``), so they hold for every module, including ones
added later: no module over about 500 lines, no module importing another
module's underscore names, and imports that flow one way through the layers
of the README's layout (plugin -> session -> expect -> stats/scorers;
handle -> providers -> cache; the engine serves any provider and imports none
in particular).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "behavtest"
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for every import of a behavtest module, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "behavtest":
                found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.split(".")[0] == "behavtest"]
    return found


def _targets(path: Path) -> set[str]:
    """The behavtest modules a module imports (``from behavtest import stats`` counts
    as importing behavtest.stats)."""
    out = set()
    for module, names in _imports(path):
        out.add(module)
        out |= {f"{module}.{n}" for n in names if f"{module}.{n}" in MODULES}
    return out


def test_every_module_is_small() -> None:
    big = {n: len(p.read_text().splitlines()) for n, p in MODULES.items()}
    assert {n: lines for n, lines in big.items() if lines > MAX_LINES} == {}


def test_no_module_imports_another_modules_private_names() -> None:
    offenders = []
    for name, path in MODULES.items():
        for module, names in _imports(path):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private and module != name:
                offenders.append(f"{name} imports {', '.join(private)} from {module}")
    assert offenders == []


def _reaches(start: str, prefixes: tuple[str, ...]) -> list[str]:
    targets = _targets(MODULES[start])
    return sorted({t for t in targets for p in prefixes if t == p or t.startswith(p + ".")})


# What each layer must not import (directly): the layers above it.
FORBIDDEN = {
    "behavtest.stats": ("behavtest.expect", "behavtest.session", "behavtest.plugin",
                        "behavtest.handle", "behavtest.providers", "behavtest.scorers",
                        "behavtest.verdict", "behavtest.selection", "behavtest.engine"),
    "behavtest.scorers": ("behavtest.expect", "behavtest.session", "behavtest.plugin",
                          "behavtest.handle", "behavtest.providers", "behavtest.stats",
                          "behavtest.engine"),
    "behavtest.expect": ("behavtest.session", "behavtest.plugin", "behavtest.providers",
                         "behavtest.engine"),
    "behavtest.selection": ("behavtest.session", "behavtest.plugin", "behavtest.expect"),
    "behavtest.session": ("behavtest.plugin",),
    "behavtest.handle": ("behavtest.session", "behavtest.plugin", "behavtest.expect",
                         "behavtest.engine"),
    "behavtest.providers": ("behavtest.session", "behavtest.plugin", "behavtest.expect",
                            "behavtest.handle", "behavtest.engine", "behavtest.group"),
    "behavtest.cache": ("behavtest.handle", "behavtest.providers", "behavtest.session",
                        "behavtest.plugin"),
    # The engine serves whatever the registry loads: no particular provider.
    "behavtest.engine": ("behavtest.providers.hf", "behavtest.providers.local",
                         "behavtest.providers.openai", "behavtest.providers.embedded",
                         "behavtest.testing", "behavtest.session", "behavtest.plugin"),
}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_imports_flow_one_way(layer: str) -> None:
    members = [m for m in MODULES if m == layer or m.startswith(layer + ".")]
    assert members, f"no module named {layer}"
    wrong = {m: _reaches(m, FORBIDDEN[layer]) for m in members}
    assert {m: r for m, r in wrong.items() if r} == {}


def test_the_registry_names_no_particular_provider() -> None:
    """Built-in kinds register through the entry point, as third-party ones do."""
    text = MODULES["behavtest.providers.registry"].read_text()
    for kind in ('"hf"', '"openai"', '"double"', "providers.hf", "providers.openai", "testing"):
        assert kind not in text
