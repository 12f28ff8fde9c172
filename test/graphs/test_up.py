# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``robotrl up`` without ROS: command lines, parameter overrides, signals and node failures.

Process handling is exercised with small stand-in processes (plain Python), so these tests
are fast; test_up_graphs.py starts the real nodes.
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
import yaml

from robotrl_ros.graphs import up

ROOT = Path(__file__).resolve().parents[2]


def test_plan_uses_the_real_config_and_namespace(tmp_path):
    plan = up.plan('train_sim', ['namespace:=/robot1/', 'seed:=3', 'task:=reach_discrete',
                                 'output_dir:=123', 'sim_bridge.lockstep:=false'], tmp_path)
    assert plan.params_file == ROOT / 'config' / 'train_sim.yaml'
    assert list(plan.commands) == ['sim_bridge', 'policy_node', 'trainer_node']
    for node, cmd in plan.commands.items():
        ros = cmd[cmd.index('--ros-args'):]
        assert ros[:3] == ['--ros-args', '-r', f'__node:={node}']
        assert ['-r', '__ns:=/robot1', '-r', '/clock:=clock'] == ros[3:7]
        assert ros[7:11] == ['--params-file', str(plan.params_file), '--params-file',
                             str(plan.override_file)]
    assert plan.commands['sim_bridge'][-2:] == ['-p', 'lockstep:=false']
    assert '-p' not in plan.commands['trainer_node']
    overrides = yaml.safe_load(plan.override_file.read_text())
    assert overrides == {
        '/**/sim_bridge': {'ros__parameters': {'seed': 3, 'task': 'reach_discrete'}},
        '/**/policy_node': {'ros__parameters': {'trusted_artifact_dirs': ['123']}},
        '/**/trainer_node': {'ros__parameters': {'seed': 3, 'task': 'reach_discrete',
                                                 'output_dir': '123'}}}


def test_plan_without_arguments_keeps_yaml_and_root_namespace(tmp_path):
    plan = up.plan('sim_eval', ['policy_path:=/tmp/artifact', 'policy_node.status_period:='],
                   tmp_path)
    assert not any(arg.startswith('__ns:=') for cmd in plan.commands.values() for arg in cmd)
    assert yaml.safe_load(plan.override_file.read_text()) == {
        '/**/policy_node': {'ros__parameters': {'policy_path': '/tmp/artifact'}}}
    assert plan.commands['policy_node'][-2:] == ['-p', "status_period:=''"]  # rcl rejects 'x:='


def test_deploy_is_disarmed_unless_armed_is_given(tmp_path):
    plan = up.plan('deploy', ['policy_path:=p'], tmp_path)
    params = yaml.safe_load(plan.override_file.read_text())['/**/policy_node']['ros__parameters']
    assert params['armed'] is False
    plan = up.plan('deploy', ['policy_path:=p', 'armed:=true'], tmp_path)
    params = yaml.safe_load(plan.override_file.read_text())['/**/policy_node']['ros__parameters']
    assert params['armed'] is True


def test_params_file_replaces_the_config(tmp_path):
    custom = tmp_path / 'mine.yaml'
    custom.write_text('/**/policy_node:\n  ros__parameters:\n    armed: false\n')
    plan = up.plan('deploy', ['policy_path:=p', f'params_file:={custom}'], tmp_path)
    assert str(custom) in plan.commands['policy_node']
    assert str(ROOT / 'config' / 'deploy.yaml') not in plan.commands['policy_node']


@pytest.mark.parametrize(('argv', 'message'), [
    (['deploy'], 'deploy needs the argument policy_path'),
    (['deploy', '--set', 'policy_path'], "--set expects key:=value, got 'policy_path'"),
    (['deploy', '--set', 'policy_path:=p', '--set', 'armed:=maybe'], 'argument armed'),
    (['deploy', '--set', 'policy_path:=p', '--set', 'sim_bridge.seed:=1'],
     "deploy has no node 'sim_bridge'"),
    (['train_sim', '--set', 'tsak:=reach'], "no launch argument(s) ['tsak']"),
    (['train_sim', '--set', 'namespace:=robot-1'], "namespace 'robot-1' is not a valid ROS"),
    (['train_sim', '--set', 'namespace:=arm/2nd'], "namespace 'arm/2nd' is not a valid ROS"),
    (['deploy', '--set', 'policy_path:=p', '--set', 'params_file:=/nonexistent.yaml'],
     'params_file /nonexistent.yaml does not exist'),
])
def test_bad_command_lines_exit_2_naming_the_problem(argv, message, capsys):
    assert up.main(argv) == 2
    assert message in capsys.readouterr().err


def test_unknown_graph_is_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exc:
        up.main(['train'])
    assert exc.value.code == 2
    assert "invalid choice: 'train'" in capsys.readouterr().err


def test_dry_run_prints_one_command_per_node(capsys):
    assert up.main(['train_sim', '--set', 'namespace:=r2', '--dry-run']) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4
    assert all('-r __ns:=/r2' in line and 'train_sim.yaml' in line for line in lines[:3])
    assert lines[3] == '# train_sim_overrides.yaml (temporary): {}'


def test_robotrl_cli_dispatches_up():
    proc = subprocess.run([sys.executable, '-m', 'robotrl_ros.cli', 'up', 'deploy',
                           '--set', 'policy_path:=/p', '--set', 'armed:=true', '--dry-run'],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert 'deploy.yaml' in proc.stdout and 'armed: true' in proc.stdout
    assert "policy_path: /p" in proc.stdout


def test_missing_config_names_the_places_searched():
    with pytest.raises(FileNotFoundError, match=r'config/nope\.yaml not found; looked in: '):
        up.find_config('nope.yaml')


def test_node_executable_prefers_the_console_script():
    cmd = up.node_executable('policy_node')
    assert Path(cmd[0]).name == 'policy_node' or cmd[1:] == ['-m', 'robotrl_ros.nodes.policy_node']
    assert up.node_executable('no_such_node_xyz') == [sys.executable, '-m',
                                                       'robotrl_ros.nodes.no_such_node_xyz']


# --- process handling, with stand-in nodes -------------------------------------------------
_STAND_IN = textwrap.dedent('''
    import os, signal, sys, time
    code_on_signal, exit_after, ready_dir = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    # -1: a stubborn node ignoring SIGINT and SIGTERM; -2: one ignoring SIGINT, exit 5 on SIGTERM
    stop = signal.SIG_IGN if code_on_signal < 0 else (lambda *_: sys.exit(code_on_signal))
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, (lambda *_: sys.exit(5)) if code_on_signal == -2 else stop)
    open(os.path.join(ready_dir, str(os.getpid())), 'w').close()  # handlers are installed
    time.sleep(exit_after)
    sys.exit(3)
''')


def _stand_in(ready_dir: Path, code_on_signal: int = 0, exit_after: float = 60.0) -> list[str]:
    return [sys.executable, '-c', _STAND_IN, str(code_on_signal), str(exit_after),
            str(ready_dir)]


def _wait_ready(ready_dir: Path, count: int, timeout: float = 60.0) -> None:
    """Wait until ``count`` stand-ins installed their signal handlers (load-independent)."""
    deadline = time.monotonic() + timeout
    while len(list(ready_dir.iterdir())) < count:
        assert time.monotonic() < deadline, f'stand-ins not ready within {timeout} s'
        time.sleep(0.05)


def test_stop_request_stops_every_node_with_exit_0(tmp_path):
    graph = up.GraphProcesses({'a': _stand_in(tmp_path), 'b': _stand_in(tmp_path)})
    graph.start()
    _wait_ready(tmp_path, 2)
    graph.request_stop(signal.SIGINT)
    assert graph.wait() == 0
    assert all(p.returncode == 0 for p in graph.procs.values())


def test_a_node_failing_on_shutdown_gives_exit_1(tmp_path):
    graph = up.GraphProcesses({'a': _stand_in(tmp_path),
                               'b': _stand_in(tmp_path, code_on_signal=4)})
    graph.start()
    _wait_ready(tmp_path, 2)
    graph.request_stop(signal.SIGTERM)
    assert graph.wait() == 1
    assert graph.procs['b'].returncode == 4


def test_a_dying_node_stops_the_others_and_gives_exit_1(tmp_path, capsys):
    graph = up.GraphProcesses({'alive': _stand_in(tmp_path),
                               'dies': _stand_in(tmp_path, exit_after=0.0)})
    graph.start()
    _wait_ready(tmp_path, 2)
    assert graph.wait() == 1
    assert graph.procs['dies'].returncode == 3
    assert graph.procs['alive'].returncode == 0  # stopped by SIGINT, exited cleanly
    err = capsys.readouterr().err
    assert 'dies exited with code 3; stopping the other nodes' in err


def test_a_node_ignoring_sigint_is_killed(tmp_path, monkeypatch):
    monkeypatch.setattr(up, 'STOP_TIMEOUT', 0.5)
    graph = up.GraphProcesses({'stubborn': _stand_in(tmp_path, code_on_signal=-1)})
    graph.start()
    _wait_ready(tmp_path, 1)
    graph.request_stop(signal.SIGINT)
    assert graph.wait() == 1
    assert graph.procs['stubborn'].returncode == -signal.SIGKILL


def test_a_second_stop_request_escalates_at_once(tmp_path):
    graph = up.GraphProcesses({'slow': _stand_in(tmp_path, code_on_signal=-2)})
    graph.start()
    _wait_ready(tmp_path, 1)
    graph.request_stop(signal.SIGINT)
    threading.Timer(1.0, graph.request_stop, args=(signal.SIGINT,)).start()  # Ctrl-C again
    start = time.monotonic()
    assert graph.wait() == 1
    assert graph.procs['slow'].returncode == 5  # got SIGTERM long before STOP_TIMEOUT
    assert time.monotonic() - start < up.STOP_TIMEOUT / 2


def test_sigint_to_robotrl_up_is_forwarded(tmp_path):
    """The real CLI process: SIGINT reaches the nodes, which exit 0, so up exits 0."""
    ready_dir = tmp_path / 'ready'
    ready_dir.mkdir()
    script = tmp_path / 'run_up.py'
    script.write_text(textwrap.dedent(f'''
        import sys
        from robotrl_ros.graphs import up
        up.node_executable = lambda name: {_stand_in(ready_dir)!r}
        sys.exit(up.main(['sim_eval', '--set', 'policy_path:=p']))
    '''))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=dict(os.environ), cwd=ROOT)
    try:
        _wait_ready(ready_dir, 2)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out
        assert 'failed' not in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_node_that_cannot_start_is_named_and_gives_exit_1(monkeypatch, tmp_path, capsys):
    missing = tmp_path / 'no_such_executable'
    monkeypatch.setattr(up, 'node_executable', lambda name: [str(missing)])
    assert up.main(['sim_eval', '--set', 'policy_path:=p']) == 1
    err = capsys.readouterr().err
    assert f"robotrl up: error: [robotrl up] cannot start sim_bridge: '{missing}'" in err


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM], ids=['SIGINT', 'SIGTERM'])
def test_a_stop_request_before_the_nodes_start_exits_0_and_starts_nothing(monkeypatch, capsys,
                                                                           sig):
    planned = up.plan

    def plan_then_signal(*args, **kwargs):   # the signal arrives while up is still planning
        result = planned(*args, **kwargs)
        os.kill(os.getpid(), sig)
        return result
    monkeypatch.setattr(up, 'plan', plan_then_signal)
    monkeypatch.setattr(up.GraphProcesses, 'start',
                        lambda self: pytest.fail('no node may start after a stop request'))
    previous = signal.getsignal(sig)
    assert up.main(['sim_eval', '--set', 'policy_path:=p']) == 0
    assert 'stop requested before the nodes started' in capsys.readouterr().err
    assert signal.getsignal(sig) is previous          # the caller's handler is back


def test_fleet_sim_plan_starts_one_pair_per_robot_and_one_trainer(tmp_path):
    fleet = up.plan('fleet_sim', ['n_robots:=3', 'seed:=5', 'namespace:=fleet'], tmp_path)
    assert list(fleet.commands) == ['robot1/sim_bridge', 'robot1/policy_node', 'robot2/sim_bridge',
                                 'robot2/policy_node', 'robot3/sim_bridge',
                                 'robot3/policy_node', 'trainer_node']
    bridge3, policy1 = (' '.join(fleet.commands[n]) for n in ('robot3/sim_bridge',
                                                            'robot1/policy_node'))
    assert '__ns:=/fleet/robot3' in bridge3 and '-p seed:=7' in bridge3   # seed + i - 1
    assert '-r policy_updates:=/fleet/policy_updates' in policy1   # the trainer's one topic
    assert '__ns:=/fleet ' in ' '.join(fleet.commands['trainer_node'])
    overrides = yaml.safe_load(fleet.override_file.read_text())
    assert overrides['/**/trainer_node']['ros__parameters']['robot_namespaces'] == [
        'robot1', 'robot2', 'robot3']
    with pytest.raises(ValueError, match='n_robots: expected 1..64, got 65'):
        up.plan('fleet_sim', ['n_robots:=65'], tmp_path)


def test_managed_plans_start_policy_nodes_unconfigured_with_the_graphs_target(tmp_path):
    deploy = up.plan('deploy', ['policy_path:=p', 'namespace:=r1'], tmp_path, managed=True)
    assert deploy.lifecycle == {'/r1/policy_node': 'inactive'}
    assert deploy.commands['policy_node'][-2:] == ['-p', 'autostart:=unconfigured']
    armed = up.plan('deploy', ['policy_path:=p', 'armed:=true'], tmp_path, managed=True)
    assert armed.lifecycle == {'/policy_node': 'active'}
    train = up.plan('train_sim', ['policy_node.explore:=false'], tmp_path, managed=True)
    assert train.lifecycle == {'/policy_node': 'active'}
    rules = train.commands['policy_node'][-4:]   # a --set after it wins
    assert rules == ['-p', 'autostart:=unconfigured', '-p', 'explore:=false']
    fleet = up.plan('fleet_sim', ['n_robots:=2', 'namespace:=fleet'], tmp_path, managed=True)
    assert fleet.lifecycle == {'/fleet/robot1/policy_node': 'active',
                               '/fleet/robot2/policy_node': 'active'}
    # Unmanaged (the training and fleet runners): the nodes bring themselves up.
    assert not any('autostart:=unconfigured' in arg
                   for cmd in up.plan('train_sim', [], tmp_path).commands.values()
                   for arg in cmd)
