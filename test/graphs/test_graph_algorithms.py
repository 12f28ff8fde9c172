# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""PPO (on-policy rollouts) and DQN (discrete, off-policy) through the ROS graph.

Short runs of sim_bridge (lockstep) + policy_node (explore) + trainer_node as three processes:
transitions are recorded, updates are done, artifacts are published and the policy node hot
reloads them. Learning itself is covered in-process (test_agents_learning.py) and for SAC on
the graph (test_graph_training.py).

Each run lasts until the trainer reports (``trainer_node/status``) the transitions and updates
the test needs and the policy node ran two published artifacts, however long a loaded machine
takes: ``total_steps`` and ``timeout_s`` are only caps that catch a hang.
"""

import json
import os
import re
from itertools import pairwise

import numpy as np
import pytest
import rclpy
from std_msgs.msg import String

from robotrl_ros.graphs.train_run import GraphConfig, run_graph
from robotrl_ros.policy.artifact import load_artifact
from robotrl_ros.tasks.registry import make_task
from robotrl_ros.training.online.store import TransitionLog

pytestmark = pytest.mark.ros

STEPS_CAP = 20_000   # the trainer's total_steps: never reached unless something hangs
HANG_S = 500.0       # graph wall-clock cap: only catches a hang


class TrainerStatus:
    """The newest ``trainer_node/status`` JSON of the graph, read from this test process."""

    def __init__(self) -> None:
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node('graph_test_probe', context=self.context)
        self.executor = rclpy.executors.SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.latest: dict = {}
        self.node.create_subscription(String, '/trainer_node/status', self._on_status, 10)

    def _on_status(self, msg: String) -> None:
        self.latest = json.loads(msg.data)

    def poll(self) -> dict:
        for _ in range(20):
            self.executor.spin_once(timeout_sec=0.0)
        return self.latest

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


def _policies_run(logs, task: str, algo: str) -> set[str]:
    """Versions of the trainer's artifacts the policy node logged running."""
    path = logs / 'policy_node.log'
    text = path.read_text() if path.is_file() else ''
    return set(re.findall(r'running policy (\S+) \(' + task + r', ' + algo + r'\) from '
                          r'\S+/policies/policy_\d+', text))


def _run(tmp_path, task, algo, hparams, *, updates, transitions, bridge=None):
    """Run the graph until the trainer reports enough updates and transitions.

    Also until the policy node ran two different published artifacts. Returns the result, the
    stored transitions and the trainer's last ``~/status``.
    """
    config = tmp_path / 'hparams.yaml'
    config.write_text(hparams)
    cfg = GraphConfig(task=task, algo=algo, output_dir=str(tmp_path / 'run'),
                      total_steps=STEPS_CAP, timeout_s=HANG_S, config=str(config),
                      publish_period=0.5, bridge=bridge or {},
                      domain_id=int(os.environ['ROS_DOMAIN_ID']))
    logs = tmp_path / 'run' / 'logs'
    status = TrainerStatus()

    def enough() -> bool:
        now = status.poll()
        return (now.get('updates', 0) >= updates and now.get('transitions', 0) >= transitions
                and len(_policies_run(logs, task, algo)) >= 2)
    try:
        result = run_graph(cfg, should_stop=enough)
    finally:
        status.close()
    trainer_log = (result.logs / 'trainer_node.log').read_text()
    assert not result.timed_out, trainer_log[-3000:]
    summary = result.summary
    assert summary['updates'] >= updates and summary['transitions'] >= transitions, summary
    # Every transition learned from is in the fsynced log, and nothing else is.
    stored = TransitionLog(result.logs.parent, make_task(task).spec).read()
    assert len(stored) == summary['transitions'], summary
    # The policy node ran the trainer's published artifacts (hot reload), not only the first.
    policy_log = (result.logs / 'policy_node.log').read_text()
    assert len(_policies_run(result.logs, task, algo)) >= 2, policy_log[-3000:]
    assert result.artifact is not None
    final = load_artifact(result.artifact, allow_torchscript=True)   # dqn: TorchScript only
    assert final.spec.name == task and final.algorithm == algo
    return result, stored, status.latest


@pytest.mark.timeout(600)
def test_ppo_learns_from_rollouts_collected_on_the_graph(tmp_path):
    # 128-step rollouts: each completed one is one PPO update.
    result, stored, trainer = _run(tmp_path, 'reach', 'ppo',
                                   'agent:\n  n_steps: 128\n  n_epochs: 2\n',
                                   updates=4, transitions=4 * 128)
    assert np.isfinite([t.reward for t in stored]).all()
    # explore mode samples actions: continuous, not all equal
    actions = np.array([t.action for t in stored])
    assert actions.std(axis=0).min() > 0.05
    # The policy node's samples (before the clamp) reached the trainer with their commands.
    # (A sample delivered after its transition completed costs that transition its sample.)
    pairing = result.summary['pairing']
    assert pairing.get('samples_matched', 0) > pairing.get('samples_missing', 0), pairing
    # After each update the simulator stood still until the policy node reported the new
    # policy (the last one or two may be in progress when the run stops): a rollout is acted
    # by the policy it trains, as in process.
    assert trainer['policy_waits'] >= 2 and trainer['policy_wait_timeouts'] == 0, trainer


@pytest.mark.timeout(600)
def test_reinforce_learns_from_episodes_collected_on_the_graph(tmp_path):
    # One update per 2 finished episodes: 3 updates need >= 6 episodes that ended on the graph.
    result, stored, _ = _run(tmp_path, 'reach', 'reinforce', 'agent:\n  batch_episodes: 2\n',
                             updates=3, transitions=1)
    assert np.isfinite([t.reward for t in stored]).all()
    # Episodes end on the graph (time limit or success), which is what REINFORCE learns from.
    assert sum(t.terminated or t.truncated for t in stored) >= 6


@pytest.mark.timeout(600)
def test_dqn_learns_discrete_reach_on_the_graph(tmp_path):
    result, stored, _ = _run(tmp_path, 'reach_discrete', 'dqn',
                             'agent:\n  learning_starts: 200\n', updates=1, transitions=600)
    # The trainer maps each observed command back onto one of the 27 discrete actions.
    indices = [t.action_index for t in stored]
    assert None not in indices and len(set(indices)) > 5


@pytest.mark.timeout(600)
def test_reach_last_action_runs_on_a_graph_with_action_latency(tmp_path):
    # The sim-to-real task: the policy node feeds its own last command back into the
    # observation, the trainer rebuilds it from the command topic, the bridge delays commands.
    result, stored, _ = _run(tmp_path, 'reach_last_action', 'sac',
                             'agent:\n  learning_starts: 200\n', updates=1, transitions=600,
                             bridge={'dr_latency_steps': [1, 3], 'dr_mass_scale': [0.7, 1.3]})
    # Between two transitions one control period apart (sim-time stamps) the chain must hold
    # exactly; a transition a loaded host dropped only removes the link across it.
    period = make_task('reach_last_action').spec.control_period
    links = [(a, b) for a, b in pairwise(stored)
             if a.episode == b.episode and abs(b.stamp - a.stamp - period) < 0.25 * period]
    broken = [(a.stamp, b.stamp) for a, b in links
              if not np.allclose(b.obs[-3:], a.action, atol=1e-6)]
    assert len(links) >= 100 and not broken, (len(links), broken[:5])
    starts = [t for a, t in pairwise(stored) if a.episode != t.episode]
    nonzero = [(t.episode, t.stamp, t.obs[-3:]) for t in starts
               if not np.array_equal(t.obs[-3:], np.zeros(3))]
    # An episode's first stored transition starts with no last action, unless its true first
    # transition was dropped and counted (a goal delivered very late, a gap under load).
    pairing = result.summary['pairing']
    explained = sum(pairing.get(f'dropped_{k}', 0)
                    for k in ('goal_changed', 'gap', 'episode_cut_by_new_goal'))
    assert starts and len(nonzero) <= explained, (nonzero, pairing)
