# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``make setup`` (tools/setup_env.py): fast when up to date, clear errors in a bad environment."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / 'tools' / 'setup_env.py'


def _load():
    spec = importlib.util.spec_from_file_location('setup_env', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_old_python_is_refused_with_a_clear_message():
    setup_env = _load()
    message = setup_env.python_problem((3, 9, 18), '/usr/bin/python3.9')
    assert 'Python 3.10 or newer is required' in message and '3.9.18' in message
    assert setup_env.python_problem((3, 11, 7), sys.executable) is None


def test_unreachable_index_fails_with_a_clear_message(tmp_path):
    env = dict(os.environ, ROBOTRL_VENV=str(tmp_path / 'venv'), PIP_CONFIG_FILE=os.devnull,
               PIP_INDEX_URL='http://127.0.0.1:9/simple', PIP_FIND_LINKS='',
               PIP_EXTRA_INDEX_URL='')
    proc = subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 1
    assert 'setup failed: could not reach the Python package index' in proc.stderr
    assert 'Traceback' not in proc.stderr


def test_setup_does_nothing_when_nothing_changed():
    venv = Path(sys.prefix)
    stamp = venv / '.robotrl-setup-stamp'
    setup_env = _load()
    env = dict(os.environ, ROBOTRL_VENV=str(venv))
    # The leg make used: `make test ROS_DISTRO=kilted` exports ROS_DISTRO, and this venv's own
    # interpreter imports rclpy, so 'auto' would plan a sourced install here; try each leg.
    built = stamp.read_text().strip() if stamp.exists() else None
    legs = ['jazzy'] if venv.name == '.venv-jazzy' else ['auto', 'kilted']
    matching = [leg for leg in legs if built == setup_env.inputs_hash(
        setup_env.plan_environment(leg, env, setup_env.system_rclpy_importable))]
    if not matching:
        pytest.skip('the running interpreter is not an up-to-date make-setup venv')
    leg = matching[0]
    proc = subprocess.run([sys.executable, str(SCRIPT), '--leg', leg], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert 'up to date' in proc.stdout and 'installing' not in proc.stdout


# --- which environment: a pure function of the leg, the environment and a probe -----------
class _Probe:
    """A fake "does the system Python import rclpy" that counts its calls."""

    def __init__(self, answer):
        self.answer, self.calls = answer, 0

    def __call__(self):
        self.calls += 1
        return self.answer


def test_a_sourced_ros_install_gets_a_system_site_venv_without_ros_wheels():
    setup_env = _load()
    probe = _Probe(True)
    plan = setup_env.plan_environment('auto', {'ROS_DISTRO': 'humble'}, probe)
    assert plan.system_site_packages and probe.calls == 1
    assert plan.venv == ROOT / '.venv'
    assert plan.requirements == ('requirements-core.txt', 'requirements-dev.txt')
    assert 'humble' in plan.description
    for name in plan.requirements:      # neither file pulls a ROS wheel
        text = (ROOT / name).read_text()
        assert 'ros-' not in text and '-r requirements.txt' not in text


def test_ros_distro_without_an_importable_rclpy_gets_the_wheels():
    setup_env = _load()
    plan = setup_env.plan_environment('auto', {'ROS_DISTRO': 'jazzy'}, _Probe(False))
    assert not plan.system_site_packages and plan.requirements == ('requirements.txt',)


def test_an_explicit_wheel_leg_ignores_a_sourced_install():
    setup_env = _load()
    probe = _Probe(True)
    plan = setup_env.plan_environment('kilted', {'ROS_DISTRO': 'kilted'}, probe)
    assert not plan.system_site_packages and plan.requirements == ('requirements.txt',)
    assert probe.calls == 0


def test_no_ros_distro_gets_the_kilted_wheels_without_probing():
    setup_env = _load()
    probe = _Probe(True)                  # rclpy importable (e.g. a stray PYTHONPATH) ...
    plan = setup_env.plan_environment('auto', {}, probe)
    assert probe.calls == 0               # ... but nothing is sourced: not asked
    assert plan == setup_env.Plan(ROOT / '.venv', ('requirements.txt',), False,
                                  'ROS 2 Kilted from PyPI wheels')


def test_the_jazzy_leg_always_gets_its_own_wheel_venv():
    setup_env = _load()
    for env in ({}, {'ROS_DISTRO': 'jazzy'}):
        plan = setup_env.plan_environment('jazzy', env, _Probe(True))
        assert plan.venv == ROOT / '.venv-jazzy'
        assert plan.requirements == ('requirements-jazzy.txt',)
        assert not plan.system_site_packages
    plan = setup_env.plan_environment('jazzy', {'ROBOTRL_VENV': '/tmp/v'}, _Probe(True))
    assert plan.venv == Path('/tmp/v')


def test_an_unknown_leg_is_refused_with_the_known_ones():
    setup_env = _load()
    with pytest.raises(ValueError, match="unknown ROS_DISTRO 'rolling'.*jazzy, kilted"):
        setup_env.plan_environment('rolling', {}, _Probe(True))


def test_the_plan_is_part_of_the_stamp():
    setup_env = _load()
    wheels = setup_env.plan_environment('auto', {}, _Probe(True))
    system = setup_env.plan_environment('auto', {'ROS_DISTRO': 'kilted'}, _Probe(True))
    assert setup_env.inputs_hash(wheels) != setup_env.inputs_hash(system)


def test_the_jazzy_requirements_name_rclpy_the_middleware_and_every_kilted_message_package():
    jazzy = (ROOT / 'requirements-jazzy.txt').read_text()
    assert 'ros-jazzy-rclpy==7.1.6' in jazzy and 'ros-jazzy-rmw-fastrtps-cpp==' in jazzy
    kilted = (ROOT / 'requirements.txt').read_text()
    messages = [line.split('==')[0] for line in kilted.splitlines()
                if line.startswith('ros-') and not line.startswith('ros-rclpy')]
    assert messages
    for name in messages:
        assert f'ros-jazzy-{name[len("ros-"):]}==' in jazzy, name


def test_make_picks_the_leg_only_from_the_command_line():
    """ROS_DISTRO exported by a sourced install does not switch make to a wheel leg."""
    # Not the variables of a make this suite may run under (`make test ROS_DISTRO=jazzy`).
    clean = {k: v for k, v in os.environ.items()
             if k not in ('MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'ROS_DISTRO')}

    def variables(*args, env=None):
        proc = subprocess.run(['make', '-n', '-s', 'setup', *args], cwd=ROOT, text=True,
                              capture_output=True, env={**clean, **(env or {})}, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout
    assert '--leg jazzy' in variables('ROS_DISTRO=jazzy')
    assert '--leg kilted' in variables('ROS_DISTRO=kilted')
    assert '--leg auto' in variables(env={'ROS_DISTRO': 'jazzy'})
    assert '--leg auto' in variables()
