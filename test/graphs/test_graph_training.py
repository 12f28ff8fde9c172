# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""End to end: sim_bridge (lockstep) + policy_node (explore) + trainer_node, three processes.

A short run on ``reach`` with a fixed goal; the final artifact must do clearly better than the
untrained policy the trainer started from (the full 95 % run is benchmarks/train_graph.py).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from robotrl_ros.agents.registry import make_agent
from robotrl_ros.graphs.product_run import deploy_run
from robotrl_ros.graphs.train_run import GraphConfig, graph_commands, run_graph
from robotrl_ros.graphs.up import find_config
from robotrl_ros.policy.artifact import load_artifact
from robotrl_ros.tasks.reach import ACCEL_GAIN, DT, MAX_SPEED
from robotrl_ros.tasks.registry import make_env, make_task
from robotrl_ros.training.config import load_config
from robotrl_ros.training.evaluate import agent_policy, evaluate, evaluate_artifact
from robotrl_ros.training.online.store import TransitionLog

GOAL = [0.5, -0.5, 0.25]
STEPS = 4000  # SAC at 2,500 graph steps was sometimes still worse than untrained


@pytest.mark.timeout(1200)
def test_graph_training_improves_the_policy(tmp_path):
    hparams = tmp_path / 'sac.yaml'
    hparams.write_text('agent:\n  learning_starts: 300\n')
    # The exploring policy node acts with the last published artifact. A lockstep graph runs
    # this short budget in a few publish periods of the default, so most transitions would come
    # from the untrained policy, how many depending on the machine's speed (CI once ended
    # worse than untrained); publishing often keeps the behaviour policy close to the learner's.
    cfg = GraphConfig(task='reach', algo='sac', output_dir=str(tmp_path / 'run'),
                      total_steps=STEPS, timeout_s=1000, config=str(hparams), publish_period=0.25,
                      bridge={'goal': GOAL}, domain_id=int(os.environ['ROS_DOMAIN_ID']))
    result = run_graph(cfg)
    assert not result.timed_out, (result.logs / 'trainer_node.log').read_text()[-3000:]
    summary = result.summary
    assert summary['transitions'] == STEPS
    pairing = summary['pairing']
    # A loaded host may lose transitions (counted as dropped_gap, ...), never corrupt them: the
    # goal is fixed, so none changes under a transition, and every stored one follows the
    # dynamics. How many are lost depends on the machine: the trainer learns from STEPS kept.
    assert pairing.get('dropped_goal_changed', 0) == 0, pairing
    assert pairing.get('dropped_episode_cut_by_new_goal', 0) == 0, pairing
    _assert_episodes_follow_dynamics(result)
    assert summary['updates'] > 0

    env_kwargs = {'goal': np.array(GOAL)}
    spec = make_task('reach').spec
    untrained = make_agent('sac', spec, load_config('reach', 'sac', hparams).agent, 0)
    before = evaluate(agent_policy(untrained), make_env('reach', **env_kwargs), 20, 7)
    after = evaluate_artifact(load_artifact(result.artifact), 'reach', 20, 7,
                              env_kwargs=env_kwargs)
    print(json.dumps({'before': before.to_dict(), 'after': after.to_dict(),
                      'wall_s': result.wall_time_s, 'pairing': pairing}))
    if not (after.mean_return > before.mean_return + 10.0
            and after.success_rate >= before.success_rate):
        # CI twice saw a final artifact worse than untrained (-200, -234) that no local run
        # reproduced: say whether training itself went wrong or only the final artifact.
        kept = {path.name: evaluate_artifact(load_artifact(path), 'reach', 5, 7,
                                             env_kwargs=env_kwargs).mean_return
                for path in sorted((result.artifact.parent / 'policies').iterdir())}
        learning = {key: summary.get(key) for key in (
            'updates', 'episodes', 'recent_return', 'recent_success_rate', 'losses')}
        pytest.fail(f'final artifact {after.to_dict()} is not better than the untrained '
                    f'policy {before.to_dict()}; training: {learning}; the last published '
                    f'artifacts (mean return, 5 episodes): {kept}')

    # The short deploy run of `make run`: the artifact drives the simulated robot on the graph.
    deployed = deploy_run(str(result.artifact), episodes=5, timeout_s=300)
    assert deployed['episodes'] >= 5
    assert 0.0 <= deployed['success_rate'] <= 1.0 and deployed['mean_return'] < 0


def test_episode_monitor_rejects_a_bad_episode_count():
    proc = subprocess.run([sys.executable, '-m', 'robotrl_ros.nodes.episode_monitor',
                           '--episodes', '0'], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and '--episodes must be 1..20' in proc.stderr


def test_graph_commands_wire_the_three_nodes_as_documented(tmp_path):
    commands = graph_commands(GraphConfig(output_dir='/tmp/x', bridge={'dr_obs_noise_std': 0.01}),
                              tmp_path)
    bridge, trainer, policy = (' '.join(commands[n]) for n in ('sim_bridge', 'trainer_node',
                                                                'policy_node'))
    assert 'lockstep:=true' in bridge and 'auto_reset:=true' in bridge
    assert 'dr_obs_noise_std:=0.01' in bridge
    assert "reset_service:=''" in trainer and 'output_dir:=/tmp/x' in trainer
    assert 'explore:=true' in policy and 'armed:=true' in policy
    legged = graph_commands(GraphConfig(task='locomotion', robot='a1'), tmp_path)
    assert all('robot:=a1' in ' '.join(legged[n]) for n in ('sim_bridge', 'trainer_node'))
    assert 'robot:=' not in ' '.join(commands['sim_bridge'])
    service = graph_commands(GraphConfig(episode_reset='service'), tmp_path)
    assert 'reset_service:=sim_bridge/reset' in ' '.join(service['trainer_node'])
    with pytest.raises(ValueError, match='episode_reset'):
        graph_commands(GraphConfig(episode_reset='never'), tmp_path)
    # The graph users start: config/train_sim.yaml, the run's values on top of it.
    assert all(str(find_config('train_sim.yaml')) in cmd for cmd in commands.values())
    assert all('__node:=' + node in cmd for node, cmd in commands.items())


# --- make run (training/main_job.py): graph path and its fallback --------------------------
def _fake_report():
    return {'train': {'wall_s': 300.0, 'transitions': 12000, 'artifact': '/runs/x/policy',
                      'reached': {'published_s': 290.0, 'transitions': 11800,
                                  'confirm_success': 0.99}},
            'eval': {'task': 'reach', 'episodes': 100, 'success_rate': 0.97,
                     'mean_return': -7.0, 'std_return': 3.0},
            'deploy': {'episodes': 20, 'success_rate': 0.95, 'mean_return': -8.0}}


def test_main_job_reports_graph_training_eval_and_deploy(monkeypatch, tmp_path, capsys):
    from robotrl_ros.graphs import main_job, product_run
    calls = []
    monkeypatch.setattr(product_run, 'run_product',
                        lambda *args, **kwargs: calls.append(args) or _fake_report())
    assert main_job.main(['--out', str(tmp_path), '--budget-s', '120']) == 0
    assert calls[0][0] == tmp_path / 'graph' and calls[0][2] == 120.0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[0])
    assert result['path'] == 'graph' and result['reached_target']
    assert result['eval']['success_rate'] == 0.97 and result['deploy']['episodes'] == 20
    assert ('reached 95 % (99% on 100 held-out episodes) after 290.0 s / 11800 transitions'
            in lines[1])
    assert lines[2] == ('robotrl eval of the artifact: success rate 97% over 100 episodes '
                        '(mean return -7.0).')
    assert 'success rate 95% over 20 episodes' in lines[3]


def test_main_job_falls_back_to_in_process_when_the_graph_fails(monkeypatch, tmp_path, capsys):
    from robotrl_ros.graphs import main_job, product_run

    def broken(*args, **kwargs):
        raise RuntimeError('sim_bridge exited with code 2')
    monkeypatch.setattr(product_run, 'run_product', broken)
    assert main_job.main(['--out', str(tmp_path), '--steps', '300']) == 0
    captured = capsys.readouterr()
    assert 'sim_bridge exited with code 2' in captured.err and 'falling back' in captured.err
    result = json.loads(captured.out.strip().splitlines()[0])
    assert result['path'] == 'in-process' and result['steps'] == 300
    assert (tmp_path / 'in_process' / 'policy' / 'policy.pt').is_file()


@pytest.mark.timeout(600)
def test_trainer_does_not_double_reset_an_auto_resetting_bridge(tmp_path):
    # config/train_sim.yaml runs the bridge with auto_reset and the trainer with reset_service:
    # the trainer must notice (GetParameters) and leave episode resets to the bridge.
    result, log = _run_with_reset_service(tmp_path, {'auto_reset': True})
    assert 'the bridge auto-resets episodes: not calling sim_bridge/reset' in log
    pairing = result.summary['pairing']
    assert 'dropped_cut_by_reset' not in pairing and not result.summary['awaiting_reset']
    # Several auto-reset episodes ran (counted from the log: the learner's 'episodes' counter
    # misses an episode whose final transition a loaded host dropped).
    _assert_episodes_follow_dynamics(result)


def _run_with_reset_service(tmp_path, bridge):
    """600 transitions with the trainer's reset_service set; returns the result and its log."""
    cfg = GraphConfig(output_dir=str(tmp_path / 'run'), total_steps=600, timeout_s=500,
                      episode_reset='service', bridge=bridge, backpressure=False,
                      domain_id=int(os.environ['ROS_DOMAIN_ID']))
    result = run_graph(cfg)
    log = (result.logs / 'trainer_node.log').read_text()
    assert not result.timed_out, log[-3000:]
    return result, log


def _assert_episodes_follow_dynamics(result):
    """Several episodes, and every logged transition follows the reach dynamics."""
    transitions = TransitionLog(result.logs.parent, make_task('reach').spec).read()
    assert len({t.episode for t in transitions}) >= 4
    consistent = sum(_follows_dynamics(t) for t in transitions)
    assert consistent >= 0.98 * len(transitions), (consistent, len(transitions),
                                                   result.summary['pairing'])


def _follows_dynamics(tr):
    position, velocity = tr.obs[:3].astype(float), tr.obs[3:6].astype(float) / 2.0
    expected = position + DT * np.clip(velocity + ACCEL_GAIN * tr.action, -MAX_SPEED, MAX_SPEED)
    return bool(np.abs(expected - tr.next_obs[:3]).max() < 1e-4)


@pytest.mark.timeout(600)
def test_trainer_ends_episodes_through_the_bridge_reset_service(tmp_path):
    # A lockstep bridge without auto_reset: the trainer ends every episode with sim_bridge/reset
    # (the bridge drops the policy's answer to the ended episode's last state:
    # test_sim_bridge.py::test_reset_in_lockstep_keeps_one_state_in_flight).
    result, log = _run_with_reset_service(tmp_path, {'goal': GOAL})
    assert 'resets via sim_bridge/reset' in log
    _assert_episodes_follow_dynamics(result)
