#!/usr/bin/env python3
# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Create or update the project's virtual environment (``make setup``).

Idempotent: a stamp file records a hash of everything that decides the environment's
content, so a second run with nothing changed returns in well under a second. Failures
(unsupported Python, no route to the package index, a missing wheel) end with one clear
message instead of a stack trace from inside pip.
"""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get('ROBOTRL_VENV', ROOT / '.venv'))
STAMP = VENV / '.robotrl-setup-stamp'
INPUTS = ('requirements.txt', 'requirements-core.txt', 'setup.py', 'setup.cfg',
          'tools/setup_env.py')
MIN_PYTHON = (3, 10)
NETWORK_HINTS = (
    'Failed to establish a new connection', 'Temporary failure in name resolution',
    'Network is unreachable', 'Connection refused', 'ConnectTimeoutError', 'ReadTimeoutError',
    'ProxyError', 'SSLError',
)


def fail(message: str) -> None:
    """Print a setup error and exit non-zero."""
    print(f'\nsetup failed: {message}\n', file=sys.stderr)
    sys.exit(1)


def inputs_hash() -> str:
    """Hash every file that decides what the environment contains, plus the interpreter."""
    digest = hashlib.sha256(sys.version.encode())
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


def main() -> None:
    """Create ``.venv`` if needed and install the pinned requirements and this package."""
    problem = python_problem(tuple(sys.version_info), sys.executable)
    if problem:
        fail(problem)
    wanted = inputs_hash()
    python = VENV / 'bin' / 'python'
    if python.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        print(f'environment up to date: {VENV}')
        return
    if not python.exists():
        print(f'creating virtual environment {VENV}')
        proc = subprocess.run([sys.executable, '-m', 'venv', str(VENV)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            fail(f'could not create a virtual environment ({proc.stderr.strip()}). '
                 'On Debian/Ubuntu: apt-get install python3-venv')
    print('installing pinned dependencies (requirements.txt) ...', flush=True)
    run_pip(python, ['install', '--retries', '2', '--timeout', '30', '-r', 'requirements.txt'],
            'requirements.txt')
    print('installing robotrl_ros (editable) ...', flush=True)
    run_pip(python, ['install', '--no-deps', '--no-build-isolation', '-e', '.'], 'robotrl_ros')
    STAMP.write_text(wanted + '\n')
    print(f'environment ready: {VENV}')


if __name__ == '__main__':
    main()
