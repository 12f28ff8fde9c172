# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A legged robot trained through the graph: sim_bridge (locomotion, A1) + policy + trainer.

The trainer must receive ``imu`` / ``base_twist`` paired with ``joint_states`` (its status
counters), score transitions with the locomotion reward and update the agent; the recording
holds the IMU and base twist streams and pairs the same way offline. Not a learning-quality
claim (that is the benchmark's): a short run, bounded only by a timeout that catches hangs.
"""

import os

import pytest

from robotrl_ros.graphs.train_run import GraphConfig, run_graph
from robotrl_ros.tasks.registry import make_task
from robotrl_ros.training.online.pairing import TransitionPairer
from robotrl_ros.training.online.recording_replay import read_events, replay_transitions

STEPS = 300


@pytest.mark.timeout(400)
def test_trainer_learns_locomotion_on_a1_from_paired_imu_and_base_twist(tmp_path):
    hparams = tmp_path / 'sac.yaml'
    hparams.write_text('agent:\n  learning_starts: 100\n  batch_size: 32\n')
    cfg = GraphConfig(task='locomotion', algo='sac', output_dir=str(tmp_path / 'run'),
                      total_steps=STEPS, timeout_s=300, config=str(hparams), record_mcap=True,
                      robot='a1', domain_id=int(os.environ['ROS_DOMAIN_ID']))
    result = run_graph(cfg)
    trainer_log = (result.logs / 'trainer_node.log').read_text()[-3000:]
    assert not result.timed_out, trainer_log
    summary = result.summary
    assert summary['transitions'] == STEPS, trainer_log
    pairing = summary['pairing']
    # Every scored state had its IMU and base twist sample (the bridge stamps them alike). A
    # best-effort sample lost or released late on a loaded machine only costs that transition.
    assert pairing['imu_paired'] >= STEPS and pairing['base_twist_paired'] >= STEPS, pairing
    assert pairing['imu_paired'] > pairing.get('imu_unmatched', 0), pairing
    assert summary['updates'] > 0

    recording = next((tmp_path / 'run').glob('recording_*.mcap'))
    kinds = {event.kind for event in read_events(recording)}
    assert {'joint_state', 'command', 'imu', 'base_twist', 'cmd_vel'} <= kinds
    pairer = TransitionPairer(make_task('locomotion'), use_resets=False)
    replayed = list(replay_transitions(recording, pairer))
    assert len(replayed) >= STEPS * 0.9, pairer.counters()
