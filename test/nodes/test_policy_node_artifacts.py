# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Issue 17: a policy node that shares no disk with the trainer runs its policy (processes).

A trainer_node process writes into one temporary directory; a policy_node process, started
after the trainer published (it joins late: transient local), has its own, empty artifact
directory in another one and no ``policy_path``. The policy arrives as bytes on
``policy_artifacts``; a tampered copy is refused while the running policy keeps commanding.
"""

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import rclpy
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray, String, UInt8MultiArray

from robotrl_ros.policy.artifact import WEIGHTS_FILE, load_artifact
from robotrl_ros.policy.artifact_bundle import bundle_bytes, unpack_bundle
from robotrl_ros.ros.artifact_transport import (
    ARTIFACTS_QOS,
    ARTIFACTS_TOPIC,
    bundle_message,
    message_payload,
)
from robotrl_ros.ros.conversions import make_joint_state
from robotrl_ros.ros.qos import COMMAND_QOS, SENSOR_QOS
from robotrl_ros.tasks.observation import RobotState, build_observation

TIMEOUT = 300.0   # start-up of two processes on a loaded machine; only catches a hang
COMMANDS = 'forward_position_controller/commands'
GOAL = [0.1, -0.1, 0.2]


def _start(module, cwd, *params):
    args = [sys.executable, '-m', f'robotrl_ros.nodes.{module}', '--ros-args']
    for param in params:
        args += ['-p', param]
    return subprocess.Popen(args, env=dict(os.environ), cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.stdout.read()[-4000:]


class Driver:
    """Plays the robot for the policy node and watches its status and the artifacts topic."""

    def __init__(self):
        self.node = Node('artifact_driver')
        self.payloads, self.status, self.commands = [], [], []
        self.node.create_subscription(UInt8MultiArray, ARTIFACTS_TOPIC,
                                      lambda m: self.payloads.append(message_payload(m)),
                                      ARTIFACTS_QOS)
        self.node.create_subscription(String, 'policy_node/status',
                                      lambda m: self.status.append(json.loads(m.data)), 10)
        self.node.create_subscription(Float64MultiArray, COMMANDS,
                                      lambda m: self.commands.append(list(m.data)), COMMAND_QOS)
        self.states = self.node.create_publisher(JointState, 'joint_states', SENSOR_QOS)
        self.tamper = self.node.create_publisher(UInt8MultiArray, ARTIFACTS_TOPIC, ARTIFACTS_QOS)
        self.stamp = 0.0

    def spin_until(self, condition, procs, timeout=TIMEOUT):
        end = time.monotonic() + timeout
        while time.monotonic() < end and not condition():
            for proc in procs:
                assert proc.poll() is None, f'a node exited: {proc.stdout.read()[-3000:]}'
            rclpy.spin_once(self.node, timeout_sec=0.02)
        return condition()

    def step(self, names, position, procs):
        """Publish one state (again, if lost) until it is answered; the command."""
        count = len(self.commands)
        self.stamp += 0.1
        msg = make_joint_state(names, position, np.zeros(len(names)), stamp=self.stamp)
        end = time.monotonic() + TIMEOUT
        while len(self.commands) == count:
            assert time.monotonic() < end, 'state never answered'
            self.states.publish(msg)      # best effort: the same stamp is answered once
            self.spin_until(lambda: len(self.commands) > count, procs, timeout=0.5)
        return np.asarray(self.commands[-1])

    def last_status(self, condition, procs):
        assert self.spin_until(lambda: self.status and condition(self.status[-1]), procs), \
            f'status never matched; last: {self.status[-1:]}'
        return self.status[-1]


def test_a_policy_node_with_no_shared_disk_runs_the_trainers_policy_and_refuses_tampering(
        ros, tmp_path):
    trainer_dir, robot_dir = tmp_path / 'trainer_machine', tmp_path / 'robot_machine'
    trainer_dir.mkdir()
    robot_dir.mkdir()
    config = trainer_dir / 'sac.yaml'
    config.write_text('agent:\n  learning_starts: 1000000\n  hidden_sizes: [16]\n')
    driver = Driver()
    procs = []
    try:
        procs.append(_start('trainer_node', trainer_dir, 'task:=reach', 'algo:=sac',
                            f'output_dir:={trainer_dir / "run"}', f'config:={config}',
                            "reset_service:=''", 'publish_period:=1000.0'))
        # The trainer publishes its first policy at start; the policy node starts only once
        # it is out, so it can only get it as a late joiner (transient local).
        assert driver.spin_until(lambda: driver.payloads, procs), 'no artifact published'
        published = dict(unpack_bundle(driver.payloads[-1]).files)
        procs.append(_start('policy_node', robot_dir, 'enable_policy_artifacts:=true',
                            'artifact_dir:=artifacts', 'armed:=true',
                            'trust_artifact_limits:=true', f'default_goal:={GOAL}',
                            'status_period:=0.2', 'state_timeout:=30.0'))
        status = driver.last_status(lambda s: s['policy_artifacts']['installed'] >= 1, procs)
        received = status['policy_artifacts']
        installed = load_artifact(received['installed_path'])
        assert received['installed_path'].startswith(str(robot_dir / 'artifacts'))
        assert status['policy_version'] == received['installed_version'] == installed.version
        trainer_policies = sorted((trainer_dir / 'run' / 'policies').iterdir())
        assert load_artifact(trainer_policies[-1]).version == installed.version

        # It runs the trainer's policy: each command is that policy's, from this state.
        names = list(installed.spec.joint_names)
        rng = np.random.default_rng(0)
        for _ in range(5):
            position = rng.uniform(-0.5, 0.5, len(names))
            command = driver.step(names, position, procs)
            obs = build_observation(installed.spec, RobotState(
                position, np.zeros(len(names)), goal=np.asarray(GOAL)))
            np.testing.assert_allclose(command, installed.command(obs), atol=1e-6)

        # A tampered payload (one bit of the weights, manifest unchanged) is refused...
        honest = bundle_bytes(published)
        header = honest[:len(honest) - sum(len(blob) for blob in published.values())]
        weights = bytearray(published[WEIGHTS_FILE])
        weights[-1] ^= 0x01
        tampered = header + b''.join(bytes(weights) if name == WEIGHTS_FILE else blob
                                     for name, blob in published.items())
        assert len(tampered) == len(honest) and tampered != honest
        driver.tamper.publish(bundle_message(tampered))
        status = driver.last_status(lambda s: s['policy_artifacts']['refused'] >= 1, procs)
        assert 'sha256' in status['policy_artifacts']['last_refusal']
        assert status['counts']['reload_failures'] >= 1
        # ... and the running policy keeps commanding.
        position = rng.uniform(-0.5, 0.5, len(names))
        command = driver.step(names, position, procs)
        obs = build_observation(installed.spec, RobotState(position, np.zeros(len(names)),
                                                           goal=np.asarray(GOAL)))
        np.testing.assert_allclose(command, installed.command(obs), atol=1e-6)
        status = driver.last_status(lambda s: True, procs)
        assert status['policy_version'] == installed.version
        assert not status['torch_imported']    # a lean deploy, artifacts from the network too
    finally:
        logs = [_stop(proc) for proc in procs]
        driver.node.destroy_node()
    assert all(proc.returncode == 0 for proc in procs), logs


def test_policy_artifacts_are_not_subscribed_unless_enabled_and_need_a_directory(ros, tmp_path):
    from rclpy.parameter import Parameter

    from robotrl_ros.nodes.policy_node import PolicyNode
    from robotrl_ros.ros.params import ParameterError

    off = PolicyNode(parameter_overrides=[Parameter('trust_artifact_limits', value=True)])
    on = PolicyNode(namespace='robot2', parameter_overrides=[
        Parameter('enable_policy_artifacts', value=True),
        Parameter('artifact_dir', value=str(tmp_path / 'artifacts'))])
    try:
        assert off.count_subscribers(ARTIFACTS_TOPIC) == 0
        assert off.status()['policy_artifacts'] == {'enabled': False}
        assert on.count_subscribers('/robot2/policy_artifacts') == 1
        status = on.status()['policy_artifacts']
        assert status['enabled'] and status['installed'] == 0 and status['last_refusal'] is None
        assert (tmp_path / 'artifacts').is_dir()
    finally:
        off.destroy_node()
        on.destroy_node()
    with pytest.raises(ParameterError, match="'artifact_dir'"):
        PolicyNode(parameter_overrides=[Parameter('enable_policy_artifacts', value=True)])


@pytest.mark.parametrize('publish', [True, False])
def test_the_trainer_publishes_artifacts_unless_told_not_to(ros, tmp_path, publish):
    from rclpy.parameter import Parameter

    from robotrl_ros.nodes.trainer_node import TrainerNode

    trainer = TrainerNode(parameter_overrides=[
        Parameter('output_dir', value=str(tmp_path / 'run')), Parameter('reset_service', value=''),
        Parameter('publish_policy_artifacts', value=publish)])
    try:
        assert trainer.count_publishers(ARTIFACTS_TOPIC) == int(publish)
    finally:
        trainer.close()
        trainer.destroy_node()
