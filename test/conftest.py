# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Suite-wide set-up: isolate DDS traffic per test process and keep torch single-threaded."""

import os

import pytest

# Each pytest process (or xdist worker) gets its own DDS domain and stays on loopback, so
# parallel runs never see each other's topics. Set before any test imports rclpy.
_worker = os.environ.get('PYTEST_XDIST_WORKER')
if _worker is None:
    os.environ.setdefault('ROS_DOMAIN_ID', str(100 + os.getpid() % 100))
else:
    # Workers inherit the controller's domain (set above in the controller, or the user's):
    # each moves to its own, distinct per worker, so workers never share one.
    _base = int(os.environ.get('ROS_DOMAIN_ID', 100 + os.getppid() % 100))
    _offset = int(''.join(ch for ch in _worker if ch.isdigit()) or 0)
    os.environ['ROS_DOMAIN_ID'] = str(100 + (_base - 100 + 1 + _offset) % 100)
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('OMP_NUM_THREADS', '1')


@pytest.fixture(autouse=True, scope='session')
def _torch_threads():
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency
        yield
        return
    torch.set_num_threads(1)
    yield


@pytest.fixture
def ros():
    """Initialise rclpy for one test and shut it down after (releasing the nodes it left)."""
    import rclpy
    rclpy.init()
    yield
    rclpy.try_shutdown()


@pytest.fixture(scope='module')
def ros_module():
    """Initialise rclpy once for a test module (its nodes may outlive one test)."""
    import rclpy
    rclpy.init()
    yield
    rclpy.try_shutdown()
