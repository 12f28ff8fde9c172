# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""trainer_node and the ROS helpers it relies on."""

from robotrl_ros.ros.conversions import sec_to_stamp, stamp_to_sec


def test_stamps_of_accumulated_sim_time_never_go_backwards():
    # 50 steps of 0.1 s sum to 4.999999999999998: rounding must carry into the seconds
    t, previous = 0.0, -1.0
    for _ in range(2000):
        t += 0.1
        now = stamp_to_sec(sec_to_stamp(t))
        assert now > previous and abs(now - t) < 1e-8
        previous = now
    stamp = sec_to_stamp(4.9999999999999)
    assert (stamp.sec, stamp.nanosec) == (5, 0)


# --- the node on an in-process graph --------------------------------------------------------
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import rclpy  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402
from sensor_msgs.msg import JointState  # noqa: E402
from std_msgs.msg import Float64MultiArray, String  # noqa: E402

from robotrl_ros.nodes.trainer_node import TrainerNode  # noqa: E402
from robotrl_ros.policy.artifact import load_artifact  # noqa: E402
from robotrl_ros.ros.conversions import goal_to_pose, make_joint_state  # noqa: E402
from robotrl_ros.ros.qos import COMMAND_QOS, SENSOR_QOS  # noqa: E402
from robotrl_ros.tasks.registry import make_env  # noqa: E402

COMMANDS = 'forward_position_controller/commands'


class FakeRobot:
    """Plays robot and explorer: publishes reach states, goals and random commands in order."""

    def __init__(self):
        from geometry_msgs.msg import PoseStamped
        self.node = rclpy.create_node('fake_robot')
        self.env = make_env('reach')
        self.rng = np.random.default_rng(0)
        self.js = self.node.create_publisher(JointState, 'joint_states', SENSOR_QOS)
        self.goal = self.node.create_publisher(PoseStamped, 'goal_pose', COMMAND_QOS)
        self.cmd = self.node.create_publisher(Float64MultiArray, COMMANDS, COMMAND_QOS)
        self.updates, self.status = [], []
        self.node.create_subscription(String, 'policy_updates',
                                      lambda m: self.updates.append(m.data), COMMAND_QOS)
        self.node.create_subscription(String, 'trainer_node/status',
                                      lambda m: self.status.append(json.loads(m.data)), 10)
        self.stamp = 0.0
        self.steps = 0

    def new_episode(self):
        self.env.reset(seed=int(self.rng.integers(1000)))
        self.goal.publish(goal_to_pose(self.env.goal))
        self.steps = 0
        self.publish_state()

    def publish_state(self):
        self.stamp += 0.1
        names, pos, vel, _ = self.env.joint_state()
        self.js.publish(make_joint_state(names, pos, vel, stamp=self.stamp))

    def step(self):
        """One command and the state it leads to; a new episode every 20 steps."""
        command = self.rng.uniform(-1, 1, 3)
        self.cmd.publish(Float64MultiArray(data=command.tolist()))
        if self.steps == 19:
            self.new_episode()           # like an auto-resetting bridge: goal first, new state
            return
        self.env.step_command(command)
        self.steps += 1
        self.publish_state()


def test_trainer_node_learns_from_the_stream_and_publishes_artifacts(ros, tmp_path):
    config = tmp_path / 'sac.yaml'
    config.write_text('agent:\n  learning_starts: 50\n  batch_size: 16\n  hidden_sizes: [16]\n')
    trainer = TrainerNode(parameter_overrides=[
        Parameter('output_dir', value=str(tmp_path / 'run')), Parameter('algo', value='sac'),
        Parameter('config', value=str(config)), Parameter('reset_service', value=''),
        Parameter('publish_period', value=1.0), Parameter('status_period', value=0.2),
        Parameter('publish_policy_artifacts', value=True)])
    robot = FakeRobot()
    executor = SingleThreadedExecutor()
    executor.add_node(trainer)
    executor.add_node(robot.node)
    try:
        deadline = time.monotonic() + 60  # ends as soon as it holds; catches hangs
        while robot.js.get_subscription_count() == 0 or robot.cmd.get_subscription_count() == 0:
            executor.spin_once(timeout_sec=0.05)
            assert time.monotonic() < deadline, 'trainer never subscribed'
        robot.new_episode()
        for _ in range(200):
            for _ in range(3):
                executor.spin_once(timeout_sec=0.005)
            robot.step()
        deadline = time.monotonic() + 60  # ends as soon as it holds; catches hangs
        while time.monotonic() < deadline and not (
                robot.status and robot.status[-1]['accepted'] >= 150
                and robot.status[-1]['transitions_stored'] == robot.status[-1]['accepted']
                and robot.status[-1]['updates'] > 0 and robot.updates
                and robot.status[-1]['artifacts_published'] > 0):
            executor.spin_once(timeout_sec=0.05)
        status = robot.status[-1]
        trainer._running = False   # the learning thread stops (as close() does): no more paths
        trainer._worker.join()
        announced = trainer.status()['artifacts_published']
        deadline = time.monotonic() + 60  # ends as soon as it holds; catches hangs
        while time.monotonic() < deadline and len(set(robot.updates)) < announced:
            executor.spin_once(timeout_sec=0.05)
    finally:
        executor.shutdown()
        trainer.close()
        trainer.destroy_node()
        robot.node.destroy_node()
    # 200 commands over 10 episodes of 20: 19 paired per episode, the 20th answers the last state
    assert 150 <= status['transitions'] <= 190
    assert status['pairing']['dropped_after_episode_end'] >= 7
    assert status['transitions_stored'] == status['transitions']
    assert status['updates'] > 0 and status['learning_rate'] == pytest.approx(1e-3)
    assert status['pairing']['dropped_episode_cut_by_new_goal'] >= 7       # new goal = new episode
    assert status['episode'] >= 8
    artifact = load_artifact(robot.updates[-1])
    assert artifact.metadata['algorithm'] == 'sac'
    assert (tmp_path / 'run' / 'policy' / 'policy.yaml').is_file()     # final, at close()
    # Each new artifact counted once, on both transports (re-announcements are not new).
    published = status['artifacts_published']
    assert status['artifacts_published_by_transport'] == {'policy_updates': published,
                                                           'policy_artifacts': published}
    assert published >= 1
    assert len(set(robot.updates)) == announced   # every path once, however often announced


def _run_trainer(tmp_path, *params, timeout=60):
    args = [sys.executable, '-m', 'robotrl_ros.nodes.trainer_node', '--ros-args']
    for p in params:
        args += ['-p', p]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ), cwd=tmp_path)


def test_bad_parameter_exits_2_naming_it(tmp_path):
    proc = _run_trainer(tmp_path, f'output_dir:={tmp_path}', 'algo:=nope')
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2, out
    assert 'nope' in out


@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGINT], ids=['SIGTERM', 'SIGINT'])
def test_sigterm_exits_0_and_keeps_a_policy(tmp_path, sig):
    proc = _run_trainer(tmp_path, f'output_dir:={tmp_path / "run"}', "reset_service:=''")
    try:
        deadline = time.monotonic() + 300   # start-up on a loaded machine; catches hangs
        while not (tmp_path / 'run' / 'policies').is_dir():
            assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read()
            time.sleep(0.2)
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, out
    assert (tmp_path / 'run' / 'policy' / 'policy.yaml').is_file()
    assert (tmp_path / 'run' / 'online_checkpoint.pt').is_file()


def test_a_full_disk_at_close_still_closes_the_recording_and_exits_1(ros, tmp_path, monkeypatch):
    from robotrl_ros.training.online.store import StorageError
    trainer = TrainerNode(parameter_overrides=[
        Parameter('output_dir', value=str(tmp_path / 'run')), Parameter('reset_service', value=''),
        Parameter('record_mcap', value=True), Parameter('mcap_flush_period', value=0.5)])
    recorder = trainer.session.recorder
    assert recorder is not None

    def disk_full(*args, **kwargs):
        raise StorageError('saving the checkpoint failed: No space left on device')
    monkeypatch.setattr(trainer.session, 'finish', disk_full)
    try:
        trainer.close()
    finally:
        trainer.destroy_node()
    assert trainer.exit_code() == 1 and 'No space left' in trainer.failure
    assert trainer.session.recorder is None                     # closed all the same
    recordings = list((tmp_path / 'run').glob('*.mcap'))
    assert recordings and recordings[0].stat().st_size > 0


def test_a_fleet_trainer_records_each_robot_under_its_namespace(ros, tmp_path):
    trainer = TrainerNode(parameter_overrides=[
        Parameter('output_dir', value=str(tmp_path / 'run')), Parameter('reset_service', value=''),
        Parameter('record_mcap', value=True), Parameter('publish_policy_artifacts', value=False),
        Parameter('robot_namespaces', value=['robot1', 'fleet/robot2'])])
    try:
        recorders = dict(trainer.session.recordings.recorders)
        status = trainer.status()
    finally:
        trainer.close()
        trainer.destroy_node()
    assert sorted(recorders) == ['fleet/robot2', 'robot1']
    for name, recorder in recorders.items():
        assert recorder.topics['joint_states'] == f'/{name}/joint_states'
        assert recorder.topics['commands'] == f'/{name}/forward_position_controller/commands'
        assert recorder.topics['resets'] == f'/{name}/trainer_node/resets'
        assert recorder.path.name.endswith(f'_{name.replace("/", "_")}.mcap')
        assert recorder.closed and recorder.path.stat().st_size > 0
    assert status['artifacts_published'] == 0
    assert status['artifacts_published_by_transport'] == {'policy_updates': 0}   # paths only


@pytest.mark.parametrize('params, message', [
    (('task:=locomotion', 'robot:=panda'), "parameter 'robot': locomotion: robot 'panda' has a "
     'fixed base'),
    (('task:=locomotion', 'robot_description:=<html/>'), "parameter 'robot_description': "),
    (('task:=locomotion', 'imu_tolerance:=-1.0'), 'imu_tolerance'),
])
def test_bad_robot_exits_2_naming_the_parameter(tmp_path, params, message):
    proc = _run_trainer(tmp_path, f'output_dir:={tmp_path}', *params)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2, out
    assert message in out, out


def test_mcap_flush_period_must_be_positive(tmp_path):
    proc = _run_trainer(tmp_path, f'output_dir:={tmp_path}', 'mcap_flush_period:=0.0')
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2, out
    assert 'mcap_flush_period' in out
