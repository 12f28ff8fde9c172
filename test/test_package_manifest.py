# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""package.xml, setup.py and requirements-core.txt match what the code imports.

Every import counts: module level, inside functions, under ``TYPE_CHECKING`` (read with
``ast``, nothing is imported). The installed code is ``robotrl_ros/`` plus ``launch/``.
"""

import ast
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTALLED = ('robotrl_ros', 'launch')
ROS_PREFIXES = ('rcl', 'rmw', 'rosidl_', 'rosbag2', 'ament_', 'launch', 'tf2', 'message_filters')
ROS_SUFFIXES = ('_msgs', '_srvs', '_interfaces')
#: Import name -> distribution in requirements-core.txt, where they differ.
DISTRIBUTIONS = {'yaml': 'pyyaml', 'mcap_ros2': 'mcap-ros2-support', 'mujoco': 'gymnasium',
                 'pybullet_data': 'pybullet'}
#: Optional features' imports, pinned in requirements-dev.txt and not in requirements-core.txt
#: (a robot's install needs none of them); imported only by the command that needs them.
OPTIONAL = {'onnx': 'robotrl export --format onnx'}
#: Test helpers imported by name from the test tree (not packages).
LOCAL_TEST_MODULES = {'doubles', 'graph_probe', 'conftest'}


def is_ros_package(name: str) -> bool:
    """Whether an import root is a ROS package (a package.xml dependency key)."""
    return name.startswith(ROS_PREFIXES) or name.endswith(ROS_SUFFIXES)


def imported_roots(paths: list[Path]) -> dict[str, set[str]]:
    """Third-party import roots -> the files importing them (absolute imports only)."""
    found: dict[str, set[str]] = {}
    for path in paths:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                root = name.split('.')[0]
                if root not in sys.stdlib_module_names and root != 'robotrl_ros':
                    found.setdefault(root, set()).add(str(path.relative_to(ROOT)))
    return found


def _files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob('*.py')
                  if '__pycache__' not in p.parts)


def _manifest() -> dict[str, set[str]]:
    root = ET.parse(ROOT / 'package.xml').getroot()
    deps: dict[str, set[str]] = {}
    for element in root:
        deps.setdefault(element.tag, set()).add((element.text or '').strip())
    return deps


def test_ros_classification():
    for name in ('rclpy', 'sensor_msgs', 'std_srvs', 'rcl_interfaces', 'builtin_interfaces',
                 'ament_index_python', 'launch', 'launch_ros', 'launch_testing'):
        assert is_ros_package(name), name
    for name in ('numpy', 'torch', 'mcap', 'mcap_ros2', 'yaml', 'gymnasium', 'pytest'):
        assert not is_ros_package(name), name


def test_imports_are_found_inside_functions_and_type_checking(tmp_path, monkeypatch):
    module = tmp_path / 'probe.py'
    module.write_text('from typing import TYPE_CHECKING\n'
                      'if TYPE_CHECKING:\n    from nav_msgs.msg import Odometry\n'
                      'def f():\n    import rclpy.node\n    from . import sibling\n')
    monkeypatch.setattr(sys.modules[__name__], 'ROOT', tmp_path)
    assert set(imported_roots([module])) == {'nav_msgs', 'rclpy'}


def test_package_xml_run_dependencies_are_exactly_the_imported_ros_packages():
    imported = {name: files for name, files in imported_roots(_files(*INSTALLED)).items()
                if is_ros_package(name)}
    deps = _manifest()
    declared = {d for d in deps.get('depend', set()) | deps.get('exec_depend', set())
                if is_ros_package(d)}
    missing = {name: sorted(imported[name]) for name in set(imported) - declared}
    assert not missing, f'imported but not in package.xml <exec_depend>: {missing}'
    unused = declared - set(imported)
    assert not unused, f'in package.xml but imported nowhere under {INSTALLED}: {unused}'


def test_package_xml_test_dependencies_are_used_and_complete():
    imported = {name for name in imported_roots(_files('test')) if is_ros_package(name)}
    deps = _manifest()
    run = deps.get('depend', set()) | deps.get('exec_depend', set())
    tests = {d for d in deps.get('test_depend', set()) if is_ros_package(d)}
    assert not imported - run - tests, 'tests import ROS packages package.xml does not declare'
    assert not tests - imported, f'<test_depend> that no test imports: {tests - imported}'


def _pinned(file_name: str) -> set[str]:
    pinned = set()
    for line in (ROOT / file_name).read_text().splitlines():
        match = re.match(r'\s*([A-Za-z0-9_.-]+)', line)
        if match and not line.lstrip().startswith('#'):
            pinned.add(match.group(1).lower().replace('_', '-'))
    return pinned


def test_every_other_import_is_a_pinned_core_requirement():
    pinned = _pinned('requirements-core.txt')
    imported = imported_roots(_files(*INSTALLED))
    unpinned = {name: sorted(files) for name, files in imported.items()
                if not is_ros_package(name) and name not in LOCAL_TEST_MODULES
                and name not in OPTIONAL
                and DISTRIBUTIONS.get(name, name).lower().replace('_', '-') not in pinned}
    assert not unpinned, f'imported but not in requirements-core.txt: {unpinned}'


def test_optional_imports_are_pinned_for_development_only():
    core, dev = _pinned('requirements-core.txt'), _pinned('requirements-dev.txt')
    for name, feature in OPTIONAL.items():
        assert name in dev and name not in core, f'{name} ({feature})'


def _setup_keywords() -> tuple[dict[str, ast.expr], dict[str, str]]:
    """``setup()``'s keyword expressions and setup.py's module-level string constants."""
    tree = ast.parse((ROOT / 'setup.py').read_text())
    constants = {node.targets[0].id: node.value.value for node in tree.body
                 if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                 and isinstance(node.value, ast.Constant)}
    call = next(node for node in ast.walk(tree) if isinstance(node, ast.Call)
                and getattr(node.func, 'id', '') == 'setup')
    return {k.arg: k.value for k in call.keywords}, constants


def test_setup_py_names_only_files_that_exist():
    keywords, constants = _setup_keywords()
    package_data = {}
    if 'package_data' in keywords:
        package_data = eval(compile(ast.Expression(keywords['package_data']), 'setup.py', 'eval'),
                            {'__builtins__': {}}, constants)
    for package, patterns in package_data.items():
        for pattern in patterns:
            assert list((ROOT / package).glob(pattern)), \
                f'setup.py package_data {package}/{pattern} matches no file'
    globs = [node.args[0].value for node in ast.walk(keywords['data_files'])
             if isinstance(node, ast.Call) and getattr(node.func, 'id', '') == 'glob']
    assert globs
    for pattern in globs:
        assert list(ROOT.glob(pattern)), f'setup.py data_files glob {pattern!r} matches no file'
