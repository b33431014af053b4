"""The package's shape: no import cycle (imports inside functions included), and report readers free of runtimes."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import seaformer_deploy

PACKAGE_DIR = Path(seaformer_deploy.__file__).parent


def _module_name(path: Path) -> str:
    parts = ["seaformer_deploy", *path.relative_to(PACKAGE_DIR).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports anywhere in its body (a ``from a import b`` counts ``a.b`` too)."""
    sources = {_module_name(path): path for path in PACKAGE_DIR.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in sources.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets.add(node.module)
                targets.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[module] = {target for target in targets if target in sources and target != module}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycles.append([*path[path.index(target):], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return cycles


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_the_package_has_no_import_cycle() -> None:
    graph = _import_graph()
    assert "seaformer_deploy.bench.devices.opening" in graph  # the walk sees the package
    assert _cycles(graph) == []


def test_reading_reports_imports_no_runtime() -> None:
    code = ("import sys, seaformer_deploy.export.report, seaformer_deploy.bench.report; "
            "print(sorted(m for m in ('torch', 'onnxruntime', 'ai_edge_litert', 'cv2', 'onnx') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
