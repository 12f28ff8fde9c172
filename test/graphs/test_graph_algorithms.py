# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""PPO (on-policy rollouts) and DQN (discrete, off-policy) through the ROS graph.

Short runs of sim_bridge (lockstep) + policy_node (explore) + trainer_node as three processes:
transitions are recorded, updates are done, artifacts are published and the policy node hot
reloads them. Learning itself is covered in-process (test_agents_learning.py) and for SAC on
the graph (test_graph_training.py).
"""

import os
import re
from itertools import pairwise

import numpy as np
import pytest

from robotrl_ros.graphs.train_run import GraphConfig, run_graph
from robotrl_ros.policy.artifact import load_artifact
from robotrl_ros.tasks.registry import make_task
from robotrl_ros.training.online.store import TransitionLog

STEPS = 600


def _run(tmp_path, task, algo, hparams, bridge=None):
    config = tmp_path / 'hparams.yaml'
    config.write_text(hparams)
    cfg = GraphConfig(task=task, algo=algo, output_dir=str(tmp_path / 'run'), total_steps=STEPS,
                      timeout_s=100, config=str(config), publish_period=0.5,
                      bridge=bridge or {}, domain_id=int(os.environ['ROS_DOMAIN_ID']))
    result = run_graph(cfg)
    trainer_log = (result.logs / 'trainer_node.log').read_text()
    assert not result.timed_out, trainer_log[-3000:]
    assert result.summary['transitions'] == STEPS, result.summary
    stored = TransitionLog(result.logs.parent, make_task(task).spec).read()
    assert len(stored) == STEPS
    # The policy node ran the trainer's published artifacts (hot reload), not only the first.
    # (A 600-step run can take ~2 s on a fast host: publish every 0.5 s to see two of them.)
    policy_log = (result.logs / 'policy_node.log').read_text()
    reloaded = set(re.findall(r'running policy \S+ \(' + task + r', ' + algo, policy_log))
    assert len(re.findall(r'policy update: \S+/policies/policy_\d+', policy_log)) >= 2, policy_log
    assert len(reloaded) >= 2, policy_log[-3000:]
    assert result.artifact is not None
    final = load_artifact(result.artifact, allow_torchscript=True)   # dqn: TorchScript only
    assert final.spec.name == task and final.algorithm == algo
    return result, stored


@pytest.mark.timeout(150)
def test_ppo_learns_from_rollouts_collected_on_the_graph(tmp_path):
    # 128-step rollouts: 600 transitions complete 4 of them, each one PPO update.
    result, stored = _run(tmp_path, 'reach', 'ppo', 'agent:\n  n_steps: 128\n  n_epochs: 2\n')
    assert result.summary['updates'] >= 4, result.summary
    assert np.isfinite([t.reward for t in stored]).all()
    # explore mode samples actions: continuous, not all equal
    actions = np.array([t.action for t in stored])
    assert actions.std(axis=0).min() > 0.05


@pytest.mark.timeout(150)
def test_reinforce_learns_from_episodes_collected_on_the_graph(tmp_path):
    # 600 transitions of <= 100-step episodes finish >= 6 episodes: >= 3 updates of 2 each.
    result, stored = _run(tmp_path, 'reach', 'reinforce', 'agent:\n  batch_episodes: 2\n')
    assert result.summary['updates'] >= 3, result.summary
    assert np.isfinite([t.reward for t in stored]).all()
    # Episodes end on the graph (time limit or success), which is what REINFORCE learns from.
    assert sum(t.terminated or t.truncated for t in stored) >= 6


@pytest.mark.timeout(150)
def test_dqn_learns_discrete_reach_on_the_graph(tmp_path):
    result, stored = _run(tmp_path, 'reach_discrete', 'dqn',
                          'agent:\n  learning_starts: 200\n')
    assert result.summary['updates'] > 0, result.summary
    # The trainer maps each observed command back onto one of the 27 discrete actions.
    indices = [t.action_index for t in stored]
    assert None not in indices and len(set(indices)) > 5


@pytest.mark.timeout(150)
def test_reach_last_action_runs_on_a_graph_with_action_latency(tmp_path):
    # The sim-to-real task: the policy node feeds its own last command back into the
    # observation, the trainer rebuilds it from the command topic, the bridge delays commands.
    result, stored = _run(tmp_path, 'reach_last_action', 'sac', 'agent:\n  learning_starts: 200\n',
                          bridge={'dr_latency_steps': [1, 3], 'dr_mass_scale': [0.7, 1.3]})
    assert result.summary['updates'] > 0
    # (a transition a loaded host drops breaks the chain once: at most a few)
    follows = [np.allclose(b.obs[-3:], a.action, atol=1e-6)
               for a, b in pairwise(stored) if a.episode == b.episode]
    assert len(follows) > 0.9 * STEPS and sum(follows) >= 0.97 * len(follows)
    starts = [t for a, t in pairwise(stored) if a.episode != t.episode]
    nonzero = [(t.episode, t.stamp, t.obs[-3:]) for t in starts
               if not np.array_equal(t.obs[-3:], np.zeros(3))]
    # An episode's first stored transition starts with no last action, unless its true first
    # transition was dropped and counted (a goal delivered very late, a gap under load).
    pairing = result.summary['pairing']
    explained = sum(pairing.get(f'dropped_{k}', 0)
                    for k in ('goal_changed', 'gap', 'episode_cut_by_new_goal'))
    assert starts and len(nonzero) <= explained, (nonzero, pairing)
