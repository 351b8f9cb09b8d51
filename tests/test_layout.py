"""The shape of the code, checked: the house drawing, module and function sizes,
import direction, private names.

These read the source (``ast``), so they hold for every module, including ones
added later. The top level holds only the core types; every other module
lives in a package of its job, and each package may import only the packages
:data:`ALLOWED` names for it (the drawing in docs/architecture.md). Every
import counts, lazy ones and ``TYPE_CHECKING`` ones included, so no import
circle hides inside a function. No module is over about 500 lines and no
function over 50, so a module grows by splitting, not squeezing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "behavtest"
MAX_LINES = 500
MAX_FUNCTION_LINES = 50  # a function's body, its docstring not counted


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
        submodules = {f"{module}.{n}" for n in names if f"{module}.{n}" in MODULES}
        out |= submodules
        if len(submodules) < len(names) or not names:
            out.add(module)
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


CORE = {"behavtest", "behavtest.errors", "behavtest.files", "behavtest.untrusted",
        "behavtest.settings", "behavtest.verdict"}
"""The only modules at the top level: the types and rules every package shares."""

ALLOWED: dict[str, set[str]] = {
    # core
    "behavtest.errors": set(),
    "behavtest.files": set(),
    "behavtest.untrusted": set(),
    "behavtest.stats": {"behavtest.errors"},
    "behavtest.scorers": {"behavtest.errors"},
    "behavtest.verdict": {"behavtest.errors", "behavtest.stats"},
    "behavtest.settings": {"behavtest.errors", "behavtest.scorers", "behavtest.stats"},
    # models: providers, and sampling them through the cache
    "behavtest.providers": {"behavtest.errors", "behavtest.files", "behavtest.settings"},
    "behavtest.engine": {"behavtest.errors", "behavtest.providers", "behavtest.settings"},
    "behavtest.sampling": {"behavtest.errors", "behavtest.files", "behavtest.providers",
                           "behavtest.scorers", "behavtest.settings"},
    # from replies to verdicts
    "behavtest.checks": {"behavtest.errors", "behavtest.providers", "behavtest.sampling",
                         "behavtest.scorers", "behavtest.settings", "behavtest.stats",
                         "behavtest.verdict", "behavtest.untrusted"},
    "behavtest.questions": {"behavtest.checks", "behavtest.errors", "behavtest.sampling",
                            "behavtest.scorers", "behavtest.untrusted"},
    "behavtest.snapshots": {"behavtest.checks", "behavtest.errors", "behavtest.files",
                            "behavtest.providers", "behavtest.stats", "behavtest.untrusted",
                            "behavtest.verdict"},
    # a run, what it shows, and what drives it
    "behavtest.run": {"behavtest.checks", "behavtest.engine", "behavtest.errors",
                      "behavtest.files", "behavtest.providers", "behavtest.sampling",
                      "behavtest.settings", "behavtest.snapshots", "behavtest.stats",
                      "behavtest.verdict"},
    "behavtest.reports": {"behavtest.files", "behavtest.run", "behavtest.stats",
                          "behavtest.untrusted", "behavtest.verdict"},
    "behavtest.organisms": {"behavtest", "behavtest.errors", "behavtest.files",
                            "behavtest.providers", "behavtest.sampling", "behavtest.scorers",
                            "behavtest.settings", "behavtest.stats"},
    "behavtest.commands": {"behavtest.errors", "behavtest.files", "behavtest.organisms",
                           "behavtest.providers", "behavtest.run", "behavtest.settings",
                           "behavtest.snapshots", "behavtest.stats", "behavtest.untrusted"},
    "behavtest.plugin": {"behavtest.checks", "behavtest.engine", "behavtest.errors",
                         "behavtest.files", "behavtest.providers", "behavtest.reports",
                         "behavtest.run", "behavtest.sampling", "behavtest.settings",
                         "behavtest.snapshots", "behavtest.untrusted", "behavtest.verdict"},
    # the face: what a behaviour test imports
    "behavtest": {"behavtest.checks", "behavtest.errors", "behavtest.sampling",
                  "behavtest.scorers", "behavtest.settings", "behavtest.verdict"},
}
"""Each package (or core module) and the others it may import: the house drawing."""


def _room(module: str) -> str:
    """The package (or core module) a module belongs to."""
    return ".".join(module.split(".")[:2])


def test_the_top_level_holds_only_the_core() -> None:
    flat = {m for m, p in MODULES.items() if p.parent == SRC and p.name != "__init__.py"}
    assert flat <= CORE, f"flat modules outside the core: {sorted(flat - CORE)}"


def test_every_package_is_in_the_drawing() -> None:
    assert {_room(m) for m in MODULES} == set(ALLOWED)


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_imports_follow_the_drawing(room: str) -> None:
    wrong = {}
    for name in (m for m in MODULES if _room(m) == room):
        strays = {t for t in _targets(MODULES[name]) if _room(t) not in ALLOWED[room] | {room}}
        if strays:
            wrong[name] = sorted(strays)
    assert wrong == {}


def _circles() -> list[list[str]]:
    """Every strongly connected set of modules (Tarjan): each one is an import circle."""
    graph = {m: {t for t in _targets(p) if t in MODULES and t != m} for m, p in MODULES.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            members = []
            while True:
                w = stack.pop()
                members.append(w)
                if w == v:
                    break
            if len(members) > 1:
                found.append(sorted(members))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_circle() -> None:
    assert _circles() == []


def test_the_drawing_has_no_circle() -> None:
    seen: set[str] = set()

    def down(room: str, path: tuple[str, ...]) -> None:
        assert room not in path, " -> ".join((*path, room))
        if room in seen:
            return
        for other in ALLOWED[room] - {room}:
            down(other, (*path, room))
        seen.add(room)

    for room in ALLOWED:
        down(room, ())


def _function_lengths(path: Path) -> dict[str, int]:
    out = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(
                    getattr(body[0], "value", None), ast.Constant):
                body = body[1:]
            out[f"{node.name}:{node.lineno}"] = (node.end_lineno or 0) - body[0].lineno + 1
    return out


def test_every_function_is_short() -> None:
    long = {f"{name}.{fn}": n for name, path in MODULES.items()
            for fn, n in _function_lengths(path).items() if n > MAX_FUNCTION_LINES}
    assert long == {}


def test_the_registry_names_no_particular_provider() -> None:
    """Built-in kinds register through the entry point, as third-party ones do."""
    text = MODULES["behavtest.providers.registry"].read_text()
    for kind in ('"hf"', '"openai"', '"double"', "providers.hf", "providers.openai",
                 "providers.double"):
        assert kind not in text


def test_the_engine_serves_no_particular_provider() -> None:
    """The engine serves whatever the registry loads."""
    particular = ("behavtest.providers.hf", "behavtest.providers.local",
                  "behavtest.providers.openai", "behavtest.providers.embedded",
                  "behavtest.providers.double")
    reached = {t for m, p in MODULES.items() if _room(m) == "behavtest.engine"
               for t in _targets(p) if t.startswith(particular)}
    assert reached == set()


def test_every_option_and_marker_has_the_one_prefix() -> None:
    """The naming rule of behavtest.plugin.options, kept by test."""
    from behavtest.plugin import MARKERS
    from behavtest.plugin.options import OPTIONS

    for opt in OPTIONS:
        assert opt.ini.startswith("behav_"), opt.ini
        if opt.flag is not None:
            assert opt.flag == "--" + opt.ini.replace("_", "-"), opt.flag
    assert all(line.startswith("behav_") for line in MARKERS)
