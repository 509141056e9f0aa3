"""The shape of the code, as the core redesign left it: no import circles, and a core that knows no speed layer.

Read from the source files (every import statement, those inside functions included),
so a change that brings a circle or a fused-kernel mention back into the core fails here.
"""

import ast
import pathlib
import re
import subprocess
import sys

import pytest

PACKAGE = pathlib.Path(__file__).parent.parent / "minigrad"
CORE = ["tensor.py", "autograd", "ops", "nn"]


def _module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules():
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _resolve(name, modules):
    """The module a dotted name refers to: itself, or the longest prefix that is a module."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imports(name, path, modules):
    """The minigrad modules ``name`` imports, anywhere in the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names]   # a submodule, or a name in ``base``
        else:
            continue
        for target in targets:
            if target.split(".")[0] == "minigrad":
                resolved = _resolve(target, modules)
                if resolved is not None and resolved != name:
                    found.add(resolved)
    return found


def _only_reexports(path):
    """A package ``__init__`` whose body is imports, ``__all__`` and a docstring (the issue does not count these)."""
    if path.name != "__init__.py":
        return False
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        if isinstance(node, ast.Assign) and all(getattr(t, "id", None) == "__all__" for t in node.targets):
            continue
        return False
    return True


def _circles(graph):
    """The strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, groups, counter = {}, {}, set(), [], [], [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_the_import_graph_has_no_circle():
    """None at all, though the core redesign allowed tensor <-> the op table; package ``__init__``s that only
    re-export names don't count."""
    modules = _modules()
    counted = {name: path for name, path in modules.items() if not _only_reexports(path)}
    graph = {name: _imports(name, path, modules) & set(counted) for name, path in counted.items()}
    assert sum(len(edges) for edges in graph.values()) > 200          # the scan sees the imports
    assert _circles(graph) == []


def test_the_circle_finder_finds_a_circle():
    """The check above could pass by finding nothing: here it must find a three-module circle and leave a chain."""
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []


def test_grad_mode_and_devices_import_nothing_above_them():
    modules = _modules()
    for name in ("minigrad.autograd.grad_mode", "minigrad.backend.devices"):
        above = {m for m in _imports(name, modules[name], modules)
                 if m.startswith(("minigrad.tensor", "minigrad.ops", "minigrad.nn", "minigrad.optim"))}
        assert not above, (name, above)


def _core_files():
    for entry in CORE:
        path = PACKAGE / entry
        yield from ([path] if path.is_file() else sorted(path.rglob("*.py")))


@pytest.mark.parametrize("path", list(_core_files()), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_core_knows_no_speed_layer_and_no_optimizer(path):
    """tensor, autograd, ops and nn mention no fused kernels, Numba, accel, optimizer storage or gradient slots."""
    text = path.read_text().lower()
    words = re.findall(r"\b(fused|numba|accel|_grad_storage|leaf_grad_out|_fresh_grad|optimizer storage)\b", text)
    imports = re.findall(r"^\s*(?:from|import)\s+minigrad\.(optim|accel)\b", text, flags=re.MULTILINE)
    assert not words and not imports, (words, imports)


# Layers from the bottom up: a module imports from its own layer and the layers below it only, so every arrow of
# the import graph runs down. The folders say which part each layer belongs to: the core (the package root's
# modules and backend/, autograd/, ops/), the library on it (nn/, optim/, datasets/, utils/, distributed/), the speed
# at the edge (accel/ under the optimizers, jit/ over the library) and the tools on top (training/, viz/, cli/).
LAYERS = [
    ("minigrad._dtype", "minigrad._extras", "minigrad._rebind", "minigrad._moved", "minigrad._threads"),
    ("minigrad.backend", "minigrad.accel"),
    ("minigrad.autograd", "minigrad.random"),
    ("minigrad.ops", "minigrad.cuda"),
    ("minigrad.tensor",),
    ("minigrad.creation", "minigrad.serialization"),
    ("minigrad.datasets", "minigrad.utils", "minigrad.nn", "minigrad.optim", "minigrad.distributed"),
    ("minigrad.jit",),
    ("minigrad.training", "minigrad.viz"),
    ("minigrad.cli", "minigrad.__main__"),
]


def _layer(name):
    for level, prefixes in enumerate(LAYERS):
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            return level
    return None


def test_every_import_runs_down_the_layers():
    modules = _modules()
    upward = []
    for name, path in modules.items():
        if name == "minigrad" or _only_reexports(path):
            continue                                  # the package's front door re-exports every layer
        level = _layer(name)
        assert level is not None, f"{name} is in no layer: add it to LAYERS"
        for target in _imports(name, path, modules):
            if target != "minigrad" and _layer(target) > level:
                upward.append(f"{name} -> {target}")
    assert upward == []


def test_the_tree_shows_the_layers():
    """The package root holds the core's modules only; the training loop lives in ``training/``, and the
    learning-rate tools in their own folder of ``optim/`` beside the optimizers, their storage and the schedulers."""
    root = {p.stem for p in PACKAGE.glob("*.py")}
    assert root == {"__init__", "__main__", "_dtype", "_extras", "_moved", "_rebind", "_threads", "creation", "cuda", "random",
                    "serialization", "tensor"}
    assert {p.stem for p in (PACKAGE / "training").glob("*.py")} == {"__init__", "trainer", "data_parallel", "sweep",
                                                                  "summary"}
    assert {p.stem for p in (PACKAGE / "optim" / "lr_tools").glob("*.py")} == {
        "__init__", "guard", "insight", "lr_finder", "surfaces"}
    assert [p.name for p in PACKAGE.rglob("functional.py")] == ["functional.py"]       # nn's only


@pytest.mark.parametrize("old, new", [
    ("minigrad.trainer", "minigrad.training.trainer"), ("minigrad.sweep", "minigrad.training.sweep"),
    ("minigrad.summary", "minigrad.training.summary"), ("minigrad.optim.guard", "minigrad.optim.lr_tools.guard"),
    ("minigrad.optim.insight", "minigrad.optim.lr_tools.insight"),
    ("minigrad.optim.lr_finder", "minigrad.optim.lr_tools.lr_finder"),
    ("minigrad.optim.surfaces", "minigrad.optim.lr_tools.surfaces"), ("minigrad.functional", "minigrad"),
])
def test_old_import_paths_give_the_moved_module(old, new):
    """A program written against the old paths runs: the old name is the same module object (a subprocess, so the
    finder is tried on a fresh import, as a user's program meets it)."""
    code = (f"import importlib, {new.split('.')[0]}; old = importlib.import_module({old!r}); "
            f"new = importlib.import_module({new!r}); assert old is new, (old, new)")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_public_reexports_still_resolve():
    code = ("from minigrad.utils.hooks import RemovableHandle; from minigrad.autograd.hooks import RemovableHandle as R;"
            "assert RemovableHandle is R; from minigrad.functional import exp, cat; import minigrad;"
            "assert exp is minigrad.exp; from minigrad.trainer import Trainer; from minigrad.training import trainer;"
            "assert Trainer is trainer.Trainer; from minigrad.optim import DivergenceGuard, lr_range_test")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_jit_sits_at_the_edge():
    """minigrad.jit is imported by the package's front door and the trainer (--jit) only: nothing in the core or
    the library knows it, and the JIT adds no path through the engine."""
    modules = _modules()
    importers = {name for name, path in modules.items()
                 if not name.startswith("minigrad.jit") and any(t.startswith("minigrad.jit")
                                                                 for t in _imports(name, path, modules))}
    assert importers == {"minigrad", "minigrad.training.trainer"}
    for name in ("minigrad.autograd.engine", "minigrad.autograd.function", "minigrad.tensor"):
        assert "jit" not in modules[name].read_text().lower(), name
