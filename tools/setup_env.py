#!/usr/bin/env python3
# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Create or update the project's virtual environment (``make setup``).

Which environment (:func:`plan_environment`):

- by default (``--leg auto``), on a sourced ROS 2 install (``ROS_DISTRO`` set and ``rclpy``
  importable by this Python): ``.venv`` on top of the system packages
  (``--system-site-packages``) with ``requirements-core.txt`` and the test tools of
  ``requirements-dev.txt`` only: ROS comes from the install, no ROS wheels;
- otherwise, or with ``--leg kilted``: ``.venv`` with ``requirements.txt`` (ROS 2 Kilted from
  PyPI wheels);
- ``--leg jazzy`` (``make test ROS_DISTRO=jazzy``): ``.venv-jazzy`` with
  ``requirements-jazzy.txt`` (ROS 2 Jazzy wheels), never on top of the system packages.

``ROBOTRL_VENV`` overrides the venv's path. Idempotent: a stamp file records a hash of
everything that decides the environment's content (the plan included), so a second run with
nothing changed returns at once. Failures (unsupported Python, no route to the package index, a
missing wheel) end with one clear message instead of a stack trace from inside pip.
"""

import argparse
import hashlib
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAMP_NAME = '.robotrl-setup-stamp'
INPUTS = ('requirements.txt', 'requirements-core.txt', 'requirements-dev.txt',
          'requirements-jazzy.txt', 'setup.py', 'setup.cfg', 'tools/setup_env.py')
#: Test legs on PyPI ROS wheels: ``--leg`` value -> (venv folder, requirements file).
WHEEL_LEGS = {'kilted': ('.venv', 'requirements.txt'),
              'jazzy': ('.venv-jazzy', 'requirements-jazzy.txt')}
MIN_PYTHON = (3, 10)
NETWORK_HINTS = (
    'Failed to establish a new connection', 'Temporary failure in name resolution',
    'Network is unreachable', 'Connection refused', 'ConnectTimeoutError', 'ReadTimeoutError',
    'ProxyError', 'SSLError',
)


@dataclass(frozen=True)
class Plan:
    """The environment ``make setup`` builds.

    Attributes:
        venv: Virtual environment folder.
        requirements: Requirement files to install, in order.
        system_site_packages: Build the venv on top of the system packages (a ROS install).
        description: One line for the user.
    """

    venv: Path
    requirements: tuple[str, ...]
    system_site_packages: bool
    description: str


def system_rclpy_importable(python: str = sys.executable) -> bool:
    """Whether ``python`` (the system interpreter, with the current environment) imports rclpy."""
    try:
        proc = subprocess.run([python, '-c', 'import rclpy'], capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def plan_environment(leg: str, env: Mapping[str, str],
                     rclpy_importable: Callable[[], bool]) -> Plan:
    """Decide the environment from the requested leg, the environment variables and a probe.

    Args:
        leg: ``auto`` (a sourced install if there is one, else Kilted's wheels), or a wheel
            leg that is always built from its wheels: ``kilted`` or ``jazzy``.
        env: Environment variables (``ROS_DISTRO`` of a sourced install, ``ROBOTRL_VENV``).
        rclpy_importable: Probe, called only when ``ROS_DISTRO`` is set: does the system
            Python import rclpy?

    Raises:
        ValueError: For an unknown leg (the message lists the known ones).
    """
    leg = (leg or 'auto').lower()
    if leg != 'auto' and leg not in WHEEL_LEGS:
        raise ValueError(f'unknown ROS_DISTRO {leg!r} for a test leg: the legs are '
                         f'{", ".join(sorted(WHEEL_LEGS))} (PyPI wheels); to use a sourced ROS '
                         'install, source it and run make without ROS_DISTRO=')
    folder, requirements = WHEEL_LEGS['kilted' if leg == 'auto' else leg]
    venv = Path(env.get('ROBOTRL_VENV') or ROOT / folder)
    distro = env.get('ROS_DISTRO', '')
    if leg == 'auto' and distro and rclpy_importable():
        return Plan(venv, ('requirements-core.txt', 'requirements-dev.txt'), True,
                    f'on top of the sourced ROS 2 {distro} install (system packages), '
                    'no ROS wheels')
    wheels = 'kilted' if leg == 'auto' else leg
    return Plan(venv, (requirements,), False, f'ROS 2 {wheels.capitalize()} from PyPI wheels')


def fail(message: str) -> None:
    """Print a setup error and exit non-zero."""
    print(f'\nsetup failed: {message}\n', file=sys.stderr)
    sys.exit(1)


def inputs_hash(plan: Plan) -> str:
    """Hash every file that decides what the environment contains, the interpreter and plan."""
    digest = hashlib.sha256(sys.version.encode())
    digest.update(repr((plan.requirements, plan.system_site_packages)).encode())
    for name in INPUTS:
        digest.update(name.encode())
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def run_pip(python: Path, args: list[str], what: str) -> None:
    """Run pip quietly; on failure explain the cause in one message."""
    cmd = [str(python), '-m', 'pip', '--disable-pip-version-check', '-q', *args]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode == 0:
        return
    out = proc.stdout + proc.stderr
    tail = '\n'.join(line for line in out.splitlines()[-15:] if 'is ignored' not in line)
    if any(hint in out for hint in NETWORK_HINTS):
        fail(f'could not reach the Python package index while installing {what}.\n'
             'Check the network or the pip index settings (pip config list), then run '
             f'`make setup` again.\npip said:\n{tail}')
    if 'No matching distribution' in out or 'Could not find a version' in out:
        fail(f'a pinned package for {what} has no build for Python '
             f'{sys.version_info.major}.{sys.version_info.minor} on this platform, '
             'or the index does not have it (this project is tested on Python 3.11).\n'
             f'pip said:\n{tail}')
    fail(f'pip could not install {what} (exit {proc.returncode}).\npip said:\n{tail}')


def python_problem(version: tuple[int, ...], executable: str) -> str | None:
    """Return why this interpreter cannot be used, or None when it can."""
    if tuple(version[:2]) < MIN_PYTHON:
        found = '.'.join(str(v) for v in version[:3])
        return (f'Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer is required, this is '
                f'{found} ({executable}). Run with a newer one, e.g. PYTHON=python3.11 make test')
    return None


def main(argv: list[str] | None = None) -> None:
    """Create the planned venv if needed and install its requirements and this package."""
    parser = argparse.ArgumentParser(description='Create or update the virtual environment.')
    parser.add_argument('--leg', default='auto',
                        help='auto (default: a sourced ROS install, else Kilted wheels), '
                             'kilted or jazzy (that distro\'s PyPI wheels)')
    args = parser.parse_args(argv)
    problem = python_problem(tuple(sys.version_info), sys.executable)
    if problem:
        fail(problem)
    try:
        plan = plan_environment(args.leg, os.environ, system_rclpy_importable)
    except ValueError as exc:
        fail(str(exc))
    venv, stamp = plan.venv, plan.venv / STAMP_NAME
    wanted = inputs_hash(plan)
    python = venv / 'bin' / 'python'
    if python.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        print(f'environment up to date: {venv} ({plan.description})')
        return
    config = venv / 'pyvenv.cfg'
    system_now = config.exists() and 'include-system-site-packages = true' in config.read_text()
    if not python.exists() or system_now != plan.system_site_packages:
        print(f'creating virtual environment {venv}: {plan.description}')
        cmd = [sys.executable, '-m', 'venv', '--clear', str(venv)]
        if plan.system_site_packages:
            cmd.insert(-1, '--system-site-packages')
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            fail(f'could not create a virtual environment ({proc.stderr.strip()}). '
                 'On Debian/Ubuntu: apt-get install python3-venv')
    for requirements in plan.requirements:
        print(f'installing pinned dependencies ({requirements}) ...', flush=True)
        run_pip(python, ['install', '--retries', '2', '--timeout', '30', '-r', requirements],
                requirements)
    print('installing robotrl_ros (editable) ...', flush=True)
    run_pip(python, ['install', '--no-deps', '--no-build-isolation', '-e', '.'], 'robotrl_ros')
    stamp.write_text(wanted + '\n')
    print(f'environment ready: {venv} ({plan.description})')


if __name__ == '__main__':
    main()
