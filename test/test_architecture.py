# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Guard the layering of DESIGN.md: the pure layers never import rclpy."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PURE_LAYERS = ('util', 'tasks', 'agents', 'policy', 'training', 'sim')

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
    package = ROOT / 'robotrl_ros' / layer
    names = [f'robotrl_ros.{layer}']
    for info in pkgutil.walk_packages([str(package)], prefix=f'robotrl_ros.{layer}.'):
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
