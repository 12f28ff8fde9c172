# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""ament-style lint checks run as part of the suite: flake8/pep257 (ruff), copyright, package.xml.

On a ROS 2 install with the ament linters, ``ament_flake8`` and ``ament_pep257`` are used too.
"""

import importlib.util
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ['robotrl_ros', 'test', 'launch', 'benchmarks', 'tools', 'setup.py']
HEADER = ('# Copyright', 'SPDX-License-Identifier: Apache-2.0')


def _ruff() -> list[str] | None:
    exe = shutil.which('ruff', path=str(Path(sys.executable).parent)) or shutil.which('ruff')
    if exe:
        return [exe]
    if importlib.util.find_spec('ruff'):
        return [sys.executable, '-m', 'ruff']
    return None


def _python_files() -> list[Path]:
    files = []
    for entry in SOURCE_DIRS:
        path = ROOT / entry
        files += [path] if path.is_file() else sorted(path.rglob('*.py'))
    return [f for f in files if '__pycache__' not in f.parts]


def test_ruff_flake8_and_pep257():
    """Ruff with ruff.toml: pycodestyle, pyflakes, bugbear, imports and Google docstrings."""
    ruff = _ruff()
    if ruff is None:
        pytest.skip('ruff is not installed (make setup installs it)')
    proc = subprocess.run([*ruff, 'check', '--no-cache',
                           *[str(p) for p in SOURCE_DIRS if (ROOT / p).exists()]],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.skipif(importlib.util.find_spec('ament_flake8') is None,
                    reason='ament_flake8 not installed (ROS 2 install only)')
def test_ament_flake8():
    from ament_flake8.main import main_with_errors
    rc, errors = main_with_errors(argv=[str(ROOT / 'robotrl_ros'), str(ROOT / 'test')])
    assert rc == 0, f'{len(errors)} flake8 errors'


@pytest.mark.skipif(importlib.util.find_spec('ament_pep257') is None,
                    reason='ament_pep257 not installed (ROS 2 install only)')
def test_ament_pep257():
    from ament_pep257.main import main
    assert main(argv=[str(ROOT / 'robotrl_ros')]) == 0


def test_copyright_headers():
    missing = [str(f.relative_to(ROOT)) for f in _python_files()
               if not all(h in f.read_text()[:300] for h in HEADER)]
    assert not missing, f'files without the Apache-2.0 copyright header: {missing}'
    assert 'Apache License' in (ROOT / 'LICENSE').read_text()


def test_package_xml_is_valid_format3():
    tree = ET.parse(ROOT / 'package.xml')
    root = tree.getroot()
    assert root.tag == 'package' and root.get('format') == '3'
    assert root.findtext('name') == 'robotrl_ros'
    assert root.find('export/build_type').text == 'ament_python'
    deps = {e.text for e in root if e.tag.endswith('depend')}
    for key in ('rclpy', 'sensor_msgs', 'geometry_msgs', 'std_msgs', 'std_srvs',
                'rosgraph_msgs', 'launch_ros', 'python3-numpy', 'python3-pytorch-pip',
                'python3-pytest', 'ament_flake8', 'ament_pep257'):
        assert key in deps, f'package.xml lacks dependency {key}'
    catkin_pkg = pytest.importorskip('catkin_pkg.package')
    package = catkin_pkg.parse_package(str(ROOT / 'package.xml'))
    assert package.package_format == 3
    package.validate()
    assert [str(lic) for lic in package.licenses] == ['Apache-2.0']


def test_setup_py_declares_every_node_and_data_file():
    text = (ROOT / 'setup.py').read_text()
    for script in ('robotrl = ', 'sim_bridge = ', 'policy_node = ', 'trainer_node = '):
        assert script in text
    for data in ("'launch/*.launch.py'", "'config/*.yaml'", "'package.xml'", "'resource/'"):
        assert data in text
    assert (ROOT / 'resource' / 'robotrl_ros').exists()
    cfg = (ROOT / 'setup.cfg').read_text()
    assert 'script_dir=$base/lib/robotrl_ros' in cfg
    assert 'install_scripts=$base/lib/robotrl_ros' in cfg
