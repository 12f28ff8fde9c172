# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A session's recordings: one file per source of a fleet, each a replayable one-robot file."""

import numpy as np
from mcap_ros2.reader import read_ros2_messages

from robotrl_ros.agents.registry import make_agent
from robotrl_ros.tasks.registry import make_task
from robotrl_ros.training.config import load_config
from robotrl_ros.training.online.pairing import TransitionPairer
from robotrl_ros.training.online.recording_replay import read_events, replay_transitions
from robotrl_ros.training.online.session import OnlineSession, SessionConfig
from robotrl_ros.training.online.session_config import default_topics
from robotrl_ros.training.online.session_recording import new_recording_path

DT = 0.1
#: Per source: its goal and the command its policy sends (told apart in the recordings).
ROBOTS = {'robot1': (np.array([0.5, 0.0, 0.0]), np.array([0.1, 0.0, 0.0])),
          'fleet/robot2': (np.array([-0.5, 0.2, 0.0]), np.array([-0.2, 0.3, 0.0]))}


def _topics(namespace):
    return {key: f'/{namespace}{name}' for key, name in default_topics().items()}


def test_a_fleet_records_each_source_to_its_own_file_under_its_namespace(tmp_path):
    names = tuple(ROBOTS)
    cfg = SessionConfig(task='reach', algo='sac', output_dir=str(tmp_path), use_resets=False,
                        sources=names, record_mcap=True,
                        source_topics={name: _topics(name) for name in names})
    task = make_task('reach')
    session = OnlineSession(cfg, make_agent('sac', task.spec, load_config('reach', 'sac').agent,
                                            0))
    log_time = 0
    for name, (goal, _) in ROBOTS.items():
        session.goal(goal, 0.0, log_time, name)
    for k in range(6):   # the two robots interleaved message by message
        for sign, (name, (_, command)) in zip((1, -1), ROBOTS.items(), strict=True):
            log_time += 1000
            session.joint_state(k * DT, task.spec.joint_names,
                                np.array([sign * 0.01 * k, 0.0, 0.0]), np.zeros(3), log_time,
                                name)
            session.command(command, log_time, name)
    accepted = {name: entry['accepted'] for name, entry in session.status()['sources'].items()}
    session.close()
    files = {path.name.split('_', 3)[-1]: path for path in tmp_path.glob('recording_*.mcap')}
    assert sorted(files) == ['fleet_robot2.mcap', 'robot1.mcap']
    for name, (goal, command) in ROBOTS.items():
        path = files[f'{name.replace("/", "_")}.mcap']
        topics = {item.channel.topic for item in read_ros2_messages(str(path))}
        assert topics == {f'/{name}/joint_states', f'/{name}/goal_pose',
                          f'/{name}/forward_position_controller/commands'}, name
        commands = [e.values for e in read_events(path) if e.kind == 'command']
        assert len(commands) == 6 and all(np.array_equal(c, command) for c in commands), name
        # A plain one-robot recording: replayed alone, it pairs what the session paired live.
        replayed = list(replay_transitions(path, TransitionPairer(task, use_resets=False)))
        assert len(replayed) == accepted[name] == 5, name
        for tr in replayed:
            np.testing.assert_allclose(tr.obs[-3:] + tr.obs[:3], goal, atol=1e-6)


def test_a_new_recording_path_names_its_source_and_never_truncates_a_file(tmp_path):
    first = new_recording_path(tmp_path, '/fleet/robot2', 'recording_20260101_000000')
    assert first.name == 'recording_20260101_000000_fleet_robot2.mcap'
    first.write_bytes(b'cut by a crash')
    again = new_recording_path(tmp_path, '/fleet/robot2', 'recording_20260101_000000')
    assert again.name == 'recording_20260101_000000_fleet_robot2_1.mcap'
    assert new_recording_path(tmp_path, '', 'recording_x').name == 'recording_x.mcap'


def test_the_config_files_reward_options_score_the_graphs_transitions(tmp_path):
    """trainer_node `config:` env.reward_weights -> the reward the session scores with."""
    from robotrl_ros.tasks.registry import task_options
    from robotrl_ros.training.online.session import OnlineSession, SessionConfig

    config = tmp_path / 'stage2.yaml'
    config.write_text('env:\n  reward_weights: {termination: -100.0}\n  goal: [0.5, 0, 0]\n'
                      '  cmd_ranges: [[0.2, 0.4], [0, 0], [0, 0]]\n')
    session = OnlineSession(SessionConfig(task='locomotion', algo='ppo', robot='a1',
                                          config=str(config), output_dir=str(tmp_path / 'r')))
    try:
        assert session.task.weights['termination'] == -100.0
        assert session.task.cmd_ranges[0].tolist() == [0.2, 0.4]
    finally:
        session.close()
    plain = OnlineSession(SessionConfig(task='locomotion', algo='ppo', robot='a1',
                                        output_dir=str(tmp_path / 'p')))
    try:
        assert plain.task.weights['termination'] == 0.0
    finally:
        plain.close()
    # Simulator-only entries stay out; tasks without options take none.
    assert task_options('locomotion', {'goal': [1, 0, 0], 'randomization': 'shifted'}) == {}
    assert task_options('reach', {'reward_weights': {}}) == {}
