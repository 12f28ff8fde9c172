# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Guard the layering of DESIGN.md section 1 and docs/interfaces.md.

Three rules, each checked on the package and shown to fail on a synthetic module tree:
- imports point down the layer order only (a module imports its own layer or lower ones);
- no two modules import each other, directly or through a longer cycle;
- the pure layers (everything below ``ros/``) never import rclpy or a ROS message package.

Every ``import`` statement counts: module level, inside functions, and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = 'robotrl_ros'
#: Bottom to top. ``cli`` is the module robotrl_ros/cli.py.
LAYERS = ('util', 'tasks', 'agents', 'policy', 'training', 'sim', 'ros', 'nodes', 'graphs', 'cli')
PURE_LAYERS = LAYERS[:LAYERS.index('ros')]


def module_files(package_dir: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of the package tree."""
    modules = {}
    for path in sorted(package_dir.rglob('*.py')):
        parts = list(path.relative_to(package_dir).with_suffix('').parts)
        if parts[-1] == '__init__':
            parts.pop()
        modules['.'.join([package, *parts])] = path
    return modules


def _imported_names(module: str, path: Path) -> set[str]:
    """Absolute dotted names of everything the file imports (relative imports resolved)."""
    is_package = path.name == '__init__.py'
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split('.')
                base = base[:len(base) - node.level + (1 if is_package else 0)]
                source = '.'.join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ''
            # `from pkg.a import b` names `pkg.a.b` (a module, or a name that resolves to `pkg.a`).
            names.update(f'{source}.{alias.name}' for alias in node.names)
    return names


def import_graph(package_dir: Path, package: str) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (a ``from pkg import sub`` counts as ``sub``)."""
    modules = module_files(package_dir, package)
    graph = {}
    for module, path in modules.items():
        targets = set()
        for name in _imported_names(module, path):
            # The longest prefix that is a module of the package: `pkg.a.b.func` -> `pkg.a.b`.
            while name and name not in modules:
                name = name.rpartition('.')[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def layer_of(module: str, package: str) -> int:
    """Index in LAYERS (-1 for the package's own ``__init__``)."""
    parts = module.split('.')
    if len(parts) == 1:
        return -1
    if parts[1] not in LAYERS:
        raise AssertionError(f'{module} is in no layer: add its folder to LAYERS or move it')
    return LAYERS.index(parts[1])


def upward_imports(graph: dict[str, set[str]], package: str) -> list[str]:
    """Every import from a higher layer, as 'low (layer) -> high (layer)'."""
    found = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            low, high = layer_of(module, package), layer_of(target, package)
            if high > low and low >= 0:
                found.append(f'{module} ({LAYERS[low]}) imports {target} ({LAYERS[high]})')
    return found


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cycles)


# --- the package ---------------------------------------------------------------------------

PACKAGE_GRAPH = import_graph(ROOT / PACKAGE, PACKAGE)


def test_every_module_belongs_to_a_layer():
    for module in PACKAGE_GRAPH:
        layer_of(module, PACKAGE)


def test_imports_point_down_the_layers_only():
    assert upward_imports(PACKAGE_GRAPH, PACKAGE) == []


def test_no_two_modules_import_each_other():
    assert import_cycles(PACKAGE_GRAPH) == []


def test_the_graph_sees_function_level_imports():
    # graphs/up.py starts nodes by module name but imports graphs.definitions at module level;
    # a sanity check that the graph is not empty and has edges across layers.
    edges = sum(len(targets) for targets in PACKAGE_GRAPH.values())
    assert edges > 100
    assert f'{PACKAGE}.util.finite' in PACKAGE_GRAPH[f'{PACKAGE}.policy.safety']


# --- the checks fail where they should: a synthetic module tree ------------------------------

def _write_tree(root: Path, files: dict[str, str]) -> Path:
    package_dir = root / 'pkg'
    for name, text in files.items():
        path = package_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return package_dir


CLEAN_TREE = {
    '__init__.py': '',
    'util/__init__.py': '',
    'util/finite.py': 'import math\n',
    'tasks/__init__.py': '',
    'tasks/reach.py': 'from pkg.util.finite import math\n',
    'graphs/__init__.py': '',
    'graphs/up.py': 'from pkg.tasks import reach\nfrom ..util import finite\n',
    'cli.py': 'import pkg.graphs.up\n',
}


def test_a_clean_synthetic_tree_passes(tmp_path):
    graph = import_graph(_write_tree(tmp_path, CLEAN_TREE), 'pkg')
    assert graph['pkg.graphs.up'] == {'pkg.tasks.reach', 'pkg.util.finite'}
    assert upward_imports(graph, 'pkg') == []
    assert import_cycles(graph) == []


@pytest.mark.parametrize('statement', [
    'from pkg.graphs.up import main\n',
    'def f():\n    from pkg.graphs import up\n',
    'from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.graphs.up\n',
    'from ..graphs import up\n',
])
def test_an_upward_import_is_reported(tmp_path, statement):
    tree = dict(CLEAN_TREE, **{'tasks/reach.py': statement})
    graph = import_graph(_write_tree(tmp_path, tree), 'pkg')
    assert upward_imports(graph, 'pkg') == [
        'pkg.tasks.reach (tasks) imports pkg.graphs.up (graphs)']


def test_two_modules_importing_each_other_are_reported(tmp_path):
    tree = dict(CLEAN_TREE, **{
        'tasks/base.py': 'def f():\n    from pkg.tasks.reach import g\n',
        'tasks/reach.py': 'from pkg.tasks.base import f\n',
    })
    graph = import_graph(_write_tree(tmp_path, tree), 'pkg')
    assert upward_imports(graph, 'pkg') == []
    assert import_cycles(graph) == [['pkg.tasks.base', 'pkg.tasks.reach']]


def test_a_longer_cycle_is_reported(tmp_path):
    tree = dict(CLEAN_TREE, **{
        'tasks/a.py': 'from pkg.tasks import b\n',
        'tasks/b.py': 'from pkg.tasks import c\n',
        'tasks/c.py': 'from pkg.tasks import a\n',
    })
    graph = import_graph(_write_tree(tmp_path, tree), 'pkg')
    assert import_cycles(graph) == [['pkg.tasks.a', 'pkg.tasks.b', 'pkg.tasks.c']]


def test_a_module_outside_every_layer_is_reported(tmp_path):
    graph = import_graph(_write_tree(tmp_path, dict(CLEAN_TREE, **{'misc.py': ''})), 'pkg')
    with pytest.raises(AssertionError, match='pkg.misc is in no layer'):
        for module in graph:
            layer_of(module, 'pkg')


# --- the pure layers never import ROS ---------------------------------------------------------

# Make rclpy (and every ROS message package) unimportable, then import every pure module.
_PROBE = r'''
import importlib, sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        root = name.split('.')[0]
        if root in ('rclpy', 'rosidl_runtime_py') or root.endswith(('_msgs', '_srvs')):
            raise ImportError(f'{name} is blocked: pure layers must not import ROS')
        return None
sys.meta_path.insert(0, _Block())
for mod in sys.argv[1:]:
    importlib.import_module(mod)
print('ok', len(sys.argv) - 1)
'''


def _modules(layer: str) -> list[str]:
    package = ROOT / PACKAGE / layer
    names = [f'{PACKAGE}.{layer}']
    for info in pkgutil.walk_packages([str(package)], prefix=f'{PACKAGE}.{layer}.'):
        names.append(info.name)
    return names


@pytest.mark.parametrize('layer', PURE_LAYERS)
def test_pure_layer_never_imports_ros(layer):
    modules = _modules(layer)
    proc = subprocess.run([sys.executable, '-c', _PROBE, *modules], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f'{layer} imports ROS:\n{proc.stderr[-3000:]}'
    assert proc.stdout.strip() == f'ok {len(modules)}'


def test_probe_really_blocks_rclpy():
    proc = subprocess.run([sys.executable, '-c', _PROBE, 'rclpy'], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert 'blocked' in proc.stderr
