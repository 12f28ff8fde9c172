# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Settings of an online training session: the trainer node's parameters, without ROS."""

from __future__ import annotations

from dataclasses import dataclass, field

from robotrl_ros.training.online.base_signals import DEFAULT_TOLERANCE


def default_topics() -> dict[str, str]:
    """Recorded topic names of a trainer with its default parameters, in the root namespace."""
    return {'joint_states': '/joint_states', 'commands': '/forward_position_controller/commands',
            'goal_pose': '/goal_pose', 'cmd_vel': '/cmd_vel', 'resets': '/trainer_node/resets',
            'imu': '/imu', 'base_twist': '/base_twist'}


@dataclass
class SessionConfig:
    """Settings of a session (the trainer node's parameters).

    Attributes:
        task: Task name (``make_task``).
        algo: Algorithm name (``make_agent``).
        output_dir: Run directory; an existing one is resumed.
        seed: Agent seed.
        config: Hyperparameter YAML overriding ``config/hparams/<task>_<algo>.yaml`` ('' = none).
        total_steps: Stop after this many transitions (0 = never).
        use_resets: Episodes end through a reset service (simulation).
        init_policy: Run directory (or checkpoint file) whose agent state starts a fresh run.
        record_mcap: Record the observed streams: ``recording_<time>.mcap``, or with several
            sources one file per source, ``recording_<time>_<namespace>.mcap``
            (:mod:`.session_recording`).
        mcap_flush_period: Most seconds a recorded message waits to be on disk (fsync):
            a crash loses at most this much of the recording.
        replay_mcap: Train offline from this recording first (then go on live, if any).
        robot: Robot of a task on any robot: built-in name or robot YAML path ('' = default).
        robot_description: The robot's URDF/MJCF XML ('' = the robot file's description).
        imu_tolerance: Largest stamp offset (s) between a joint state and the ``imu`` /
            ``base_twist`` samples paired with it (:mod:`.base_signals`).
        topics: Topic names for the recording (of the single source).
        source_topics: Topic names for each source's recording, by namespace; a source not
            listed records under ``topics`` (each of several sources must be listed).
        sources: Namespaces of the robots or simulators feeding the session (:mod:`.sources`);
            ``('',)`` = the single relative source.
        source_timeout: Seconds of silence after which a source leaves the rollout (0 = never).
    """

    task: str = 'reach'
    algo: str = 'sac'
    output_dir: str = 'runs/trainer'
    seed: int = 0
    config: str = ''
    total_steps: int = 0
    use_resets: bool = True
    init_policy: str = ''
    record_mcap: bool = False
    mcap_flush_period: float = 1.0
    replay_mcap: str = ''
    robot: str = ''
    robot_description: str = ''
    imu_tolerance: float = DEFAULT_TOLERANCE
    topics: dict[str, str] = field(default_factory=default_topics)
    source_topics: dict[str, dict[str, str]] = field(default_factory=dict)
    sources: tuple[str, ...] = ('',)
    source_timeout: float = 0.0

    def recording_topics(self) -> dict[str, dict[str, str]]:
        """Each source's recorded topic names.

        Raises:
            ValueError: Several sources, and one of them has no topic names of its own (the
                recordings would name the same topics).
        """
        unnamed = [name for name in self.sources if name not in self.source_topics]
        if len(self.sources) > 1 and unnamed:
            raise ValueError(f'record_mcap: no topic names for source(s) {unnamed} of '
                             f'{list(self.sources)}')
        return {name: self.source_topics.get(name, self.topics) for name in self.sources}
