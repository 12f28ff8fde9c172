# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``make setup`` (tools/setup_env.py): fast when up to date, clear errors in a bad environment."""

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

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


def test_setup_is_fast_when_nothing_changed():
    venv = Path(sys.prefix)
    stamp = venv / '.robotrl-setup-stamp'
    if not stamp.exists() or stamp.read_text().strip() != _load().inputs_hash():
        import pytest
        pytest.skip('the running interpreter is not an up-to-date make-setup venv')
    start = time.monotonic()
    proc = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True,
                          env=dict(os.environ, ROBOTRL_VENV=str(venv)), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert 'up to date' in proc.stdout
    assert time.monotonic() - start < 10.0
