# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Train a learner from an MCAP recording (the trainer's ``replay_mcap`` mode).

The recording is paired with the same rules as the live stream and fed to the learner with the
same update-to-data ratio, so a session recorded on a robot can be re-trained (or used to
pre-train) without the robot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from robotrl_ros.tasks.base import Task
from robotrl_ros.tasks.registry import make_task
from robotrl_ros.training.online.base_signals import DEFAULT_TOLERANCE
from robotrl_ros.training.online.learner import OnlineLearner
from robotrl_ros.training.online.pairing import TransitionPairer
from robotrl_ros.training.online.recording_replay import read_events, replay_transitions


def train_from_recording(learner: OnlineLearner, path: str | Path, task: str | Task,
                         imu_tolerance: float = DEFAULT_TOLERANCE) -> dict[str, Any]:
    """Pair ``path`` and learn from every transition, running the updates that fall due.

    Args:
        learner: The learner (its log stores the replayed transitions too).
        path: MCAP recording (ours, or any ROS 2 MCAP with joint_states and commands).
        task: Task (or task name) that scores the transitions.
        imu_tolerance: Largest stamp offset (s) of the ``imu`` / ``base_twist`` samples paired
            with a joint state.

    Returns:
        Counts: transitions, updates, and the pairing counters.

    Raises:
        ValueError: Unreadable file, or a recording without the task's joints.
    """
    uses_resets = any(e.kind == 'reset' for e in read_events(path))
    pairer = TransitionPairer(make_task(task) if isinstance(task, str) else task,
                              use_resets=uses_resets)
    before = dict(learner.counters)
    for tr in replay_transitions(path, pairer, imu_tolerance):
        learner.add(tr)
        learner.train(1_000_000)
    learner.sync()
    return {'transitions': learner.counters['transitions'] - before['transitions'],
            'updates': learner.counters['updates'] - before['updates'],
            'pairing': pairer.counters()}
