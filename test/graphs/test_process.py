# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The process manager with tiny Python children (no ROS): signals, escalation, exit status.

Each child writes a marker file once its signal handlers are installed, so the tests never
depend on how fast a loaded machine starts Python.
"""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from robotrl_ros.graphs.process import (
    ProcessGroup,
    StartError,
    last_json_line,
    node_command,
    node_executable,
    ros_value,
    run_to_completion,
)

ROOT = Path(__file__).resolve().parents[2]

#: argv: marker dir, reaction to SIGINT, reaction to SIGTERM, seconds before exiting with 3.
#: A reaction is an exit code or 'ignore'.
_CHILD = textwrap.dedent('''
    import pathlib, signal, sys, time
    marker_dir, on_int, on_term, lifetime = sys.argv[1:5]
    def reaction(spec):
        return signal.SIG_IGN if spec == 'ignore' else (lambda *_: sys.exit(int(spec)))
    signal.signal(signal.SIGINT, reaction(on_int))
    signal.signal(signal.SIGTERM, reaction(on_term))
    print('child output', flush=True)
    (pathlib.Path(marker_dir) / sys.argv[5]).touch()
    time.sleep(float(lifetime))
    sys.exit(3)
''')


def child(markers: Path, name: str, on_int: str = '0', on_term: str = '0',
          lifetime: float = 120.0) -> list[str]:
    """Command of a child that reacts to SIGINT/SIGTERM as told and exits 3 after a while."""
    return [sys.executable, '-c', _CHILD, str(markers), on_int, on_term, str(lifetime), name]


def wait_for_markers(markers: Path, names, timeout: float = 60.0) -> None:
    """Until every named child has installed its handlers (bounded only to catch hangs)."""
    deadline = time.monotonic() + timeout
    while not all((markers / name).exists() for name in names):
        assert time.monotonic() < deadline, f'children not ready within {timeout} s'
        time.sleep(0.02)


@pytest.fixture
def markers(tmp_path):
    path = tmp_path / 'markers'
    path.mkdir()
    return path


def test_stop_request_sends_sigint_and_all_exiting_0_gives_0(markers, tmp_path):
    group = ProcessGroup({'a': child(markers, 'a'), 'b': child(markers, 'b', on_int='0')},
                         log_dir=tmp_path / 'logs')
    with group:
        wait_for_markers(markers, 'ab')
        group.request_stop()
        assert group.run_until() is None
    assert group.returncodes() == {'a': 0, 'b': 0}
    assert group.exit_status() == 0
    assert (tmp_path / 'logs' / 'a.log').read_text() == 'child output\n'


def test_sigint_and_sigterm_to_the_manager_are_forwarded(markers, tmp_path):
    script = tmp_path / 'manager.py'
    script.write_text(textwrap.dedent(f'''
        import sys
        from robotrl_ros.graphs.process import ProcessGroup
        group = ProcessGroup({{'a': {child(markers, 'a', on_int='0', on_term='7')!r},
                              'b': {child(markers, 'b', on_int='0', on_term='0')!r}}})
        with group.forward_signals():
            group.start()
            sys.exit(group.wait())
    '''))
    for sig, expected in ((signal.SIGINT, 0), (signal.SIGTERM, 0)):
        for marker in markers.iterdir():
            marker.unlink()
        proc = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, env=dict(os.environ),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            wait_for_markers(markers, 'ab')
            proc.send_signal(sig)
            out, _ = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        # The manager forwards SIGINT to its children whatever signal it got (a clean stop).
        assert proc.returncode == expected, out


#: argv: go file. Installs stop handlers (exit 0) only once the go file exists.
_LATE_CHILD = textwrap.dedent('''
    import pathlib, signal, sys, time
    go = pathlib.Path(sys.argv[1])
    while not go.exists():
        time.sleep(0.01)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: sys.exit(0))
    time.sleep(120)
    sys.exit(3)
''')


@pytest.mark.parametrize('await_handlers', [True, False])
def test_a_node_group_sends_sigint_only_once_the_node_handles_it(tmp_path, await_handlers):
    go = tmp_path / 'go'
    group = ProcessGroup({'late': [sys.executable, '-c', _LATE_CHILD, str(go)]},
                         stop_timeouts=(60.0, 60.0, 60.0), await_stop_handlers=await_handlers)
    group.start()
    stopper = threading.Thread(target=group.stop)
    stopper.start()
    if await_handlers:
        # Still starting: no SIGINT yet, however long it takes (a KeyboardInterrupt would end it).
        time.sleep(0.5)
        assert group.procs['late'].poll() is None
        go.touch()
    stopper.join(timeout=120)
    assert not stopper.is_alive()
    code = group.returncodes()['late']
    if await_handlers:
        assert code == 0
    else:   # SIGINT during start-up ends it (KeyboardInterrupt, or the default action)
        assert code != 0


def test_a_child_ignoring_sigint_gets_sigterm_after_the_grace(markers):
    group = ProcessGroup({'slow': child(markers, 'slow', on_int='ignore', on_term='5')},
                         stop_timeouts=(0.3, 30.0, 30.0))
    group.start()
    wait_for_markers(markers, ['slow'])
    group.stop()
    assert group.returncodes() == {'slow': 5}
    assert group.exit_status() == 1


def test_a_child_ignoring_sigint_and_sigterm_is_killed(markers, capsys):
    group = ProcessGroup({'stubborn': child(markers, 'stubborn', 'ignore', 'ignore'),
                          'polite': child(markers, 'polite')},
                         stop_timeouts=(0.3, 0.3, 30.0), label='t')
    group.start()
    wait_for_markers(markers, ['stubborn', 'polite'])
    group.request_stop()
    assert group.wait() == 1
    assert group.returncodes() == {'stubborn': -signal.SIGKILL, 'polite': 0}
    assert f'[t] stubborn failed with exit code {-signal.SIGKILL}' in capsys.readouterr().err


def test_a_hung_node_prints_its_stacks_before_it_is_killed(markers, tmp_path, capsys):
    # A node (stop_request.install_stop_handlers) stuck where SIGINT and SIGTERM cannot end it.
    hung = textwrap.dedent('''
        import pathlib, signal, sys, time
        from robotrl_ros.ros.stop_request import install_stop_handlers
        install_stop_handlers()
        pathlib.Path(sys.argv[1]).touch()
        def stuck_in_teardown():
            time.sleep(120)
        stuck_in_teardown()
    ''')
    group = ProcessGroup({'hung': [sys.executable, '-c', hung, str(markers / 'hung')]},
                         log_dir=tmp_path / 'logs', stop_timeouts=(0.3, 0.3, 30.0), label='t',
                         env={**os.environ, 'PYTHONPATH': str(ROOT)})
    group.start()
    wait_for_markers(markers, ['hung'])
    group.stop()
    assert group.returncodes() == {'hung': -signal.SIGKILL}
    assert '[t] hung did not stop within 0.6 s after SIGINT and SIGTERM; killing it' in \
        capsys.readouterr().err
    log = group.log_path('hung').read_text()
    assert 'most recent call first' in log and 'stuck_in_teardown' in log, log


def test_one_child_dying_stops_the_others(markers, capsys):
    group = ProcessGroup({'alive': child(markers, 'alive'),
                          'dies': child(markers, 'dies', lifetime=0.0)}, label='g')
    group.start()
    assert group.wait() == 1
    assert group.first_exit == 'dies'
    assert group.returncodes() == {'alive': 0, 'dies': 3}  # alive: stopped by SIGINT
    err = capsys.readouterr().err
    assert '[g] dies exited with code 3; stopping the other nodes' in err
    assert '[g] dies failed with exit code 3' in err and 'alive' not in err


def test_until_ends_the_run_without_naming_a_process(markers):
    calls = []
    group = ProcessGroup({'a': child(markers, 'a')})
    with group:
        wait_for_markers(markers, 'a')
        assert group.run_until(lambda: calls.append(1) or len(calls) >= 3) is None
    assert len(calls) == 3 and group.returncodes() == {'a': 0}


def test_a_missing_executable_is_a_clear_error_and_stops_the_started(markers, tmp_path):
    missing = tmp_path / 'no_such_node'
    group = ProcessGroup({'first': child(markers, 'first'), 'broken': [str(missing), '-x']},
                         label='g')
    with pytest.raises(StartError, match=rf"\[g\] cannot start broken: '{missing}': No such file"):
        group.start()
    assert group.returncodes()['first'] is not None  # not left running


def test_a_group_needs_processes_and_log_paths_need_a_log_dir(markers):
    with pytest.raises(ValueError, match='no processes to start'):
        ProcessGroup({})
    with pytest.raises(ValueError, match='has no log_dir'):
        ProcessGroup({'a': child(markers, 'a')}).log_path('a')


def test_node_command_orders_the_ros_arguments():
    cmd = node_command(['python', 'node.py'], name='bridge', namespace='/robot1/',
                       remaps=['/clock:=clock'], params_files=['a.yaml', Path('b.yaml')],
                       parameters={'seed': 3, 'goal': [0.5, -1], 'lockstep': True, 'config': ''},
                       rules=['task:=reach'], log_level='warn')
    assert cmd == ['python', 'node.py', '--ros-args', '-r', '__node:=bridge',
                   '-r', '__ns:=/robot1', '-r', '/clock:=clock',
                   '--params-file', 'a.yaml', '--params-file', 'b.yaml',
                   '-p', 'seed:=3', '-p', 'goal:=[0.5,-1]', '-p', 'lockstep:=true',
                   '-p', "config:=''", '-p', 'task:=reach', '--log-level', 'warn']
    assert node_command('no_such_node_xyz') == [*node_executable('no_such_node_xyz'),
                                                 '--ros-args']
    assert ros_value(0.1) == '0.1' and ros_value(False) == 'false'


def test_run_to_completion_returns_the_finishers_output_and_stops_the_rest(markers):
    finisher = [sys.executable, '-c', 'print("log line"); print(\'{"episodes": 3}\')']
    output = run_to_completion({'node': child(markers, 'node'), 'monitor': finisher},
                               'monitor', 60.0, label='m')
    assert last_json_line(output) == {'episodes': 3}


def test_run_to_completion_names_a_process_that_exits_first(markers):
    with pytest.raises(RuntimeError, match=r'\[m\] node exited with code 3: child output'):
        run_to_completion({'node': child(markers, 'node', lifetime=0.0),
                           'monitor': child(markers, 'monitor')}, 'monitor', 60.0, label='m')
    with pytest.raises(RuntimeError, match='monitor did not finish within 0.5 s'):
        run_to_completion({'monitor': child(markers, 'monitor2')}, 'monitor', 0.5, label='m')
    with pytest.raises(ValueError, match="finisher 'nope' is not one of"):
        run_to_completion({'monitor': child(markers, 'monitor3')}, 'nope', 1.0)
    with pytest.raises(ValueError, match='no JSON line'):
        last_json_line('just text\n')
