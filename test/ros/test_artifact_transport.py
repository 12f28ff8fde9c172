# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""policy_artifacts: publisher and receiver on a real DDS graph (in-process nodes)."""


import pytest
import yaml
from doubles.ros_graph import InProcessGraph, graph_factory
from rclpy.node import Node
from std_msgs.msg import UInt8MultiArray

from robotrl_ros.policy.artifact import METADATA_FILE, WEIGHTS_FILE, load_artifact
from robotrl_ros.policy.artifact_bundle import bundle_bytes, pack_artifact, unpack_bundle
from robotrl_ros.policy.synthetic import make_synthetic_artifact
from robotrl_ros.ros.artifact_transport import (
    ARTIFACTS_QOS,
    ARTIFACTS_TOPIC,
    ArtifactPublisher,
    ArtifactReceiver,
    bundle_message,
    message_payload,
)
from robotrl_ros.ros.params import ParameterError

TIMEOUT = 60.0   # waits end as soon as the data is there; this only catches a hang


@pytest.fixture(scope='module')
def sources(tmp_path_factory):
    root = tmp_path_factory.mktemp('trainer')
    return [make_synthetic_artifact(root / f'policy_{seed}', n_joints=3, hidden=(8,), seed=seed)
            for seed in range(2)]


class Robot:
    """A node with an ArtifactReceiver that records what it accepts and refuses."""

    def __init__(self, artifact_dir, name='robot', accept=None, **kwargs):
        self.node = Node(name)
        self.accepted, self.refused = [], []
        options = {'allow_torchscript': False, 'max_bytes': 1 << 24, 'load_timeout': 30.0}
        options.update(kwargs)

        def on_accept(artifact):
            if accept is not None:
                accept(artifact)
            self.accepted.append(artifact)
        self.receiver = ArtifactReceiver(self.node, str(artifact_dir), accept=on_accept,
                                         rejected=self.refused.append, **options)


@pytest.fixture
def graph(ros_module):
    with graph_factory(lambda *nodes: InProcessGraph(*nodes, timeout=TIMEOUT)) as make:
        yield make


def test_message_round_trip_keeps_the_bytes():
    payload = bytes(range(256)) * 3
    assert message_payload(bundle_message(payload)) == payload


def test_a_late_receiver_gets_the_latest_artifact_only(graph, sources, tmp_path):
    trainer = Node('trainer')
    publisher = ArtifactPublisher(trainer)
    g = graph(trainer)
    assert publisher.publish(sources[0]) and publisher.publish(sources[1])
    assert not publisher.publish(sources[1])          # unchanged: not sent again
    assert publisher.published == 2
    robot = Robot(tmp_path / 'robot')                 # joins after both were published
    g.add(robot.node)
    assert g.spin_until(lambda: robot.accepted or robot.refused), 'nothing arrived'
    assert robot.refused == []
    expected = load_artifact(sources[1])
    assert robot.accepted[0].version == expected.version
    assert robot.accepted[0].path.parent == (tmp_path / 'robot').absolute()
    status = robot.receiver.status()
    assert status['installed_version'] == expected.version and status['installed'] == 1
    g.spin_until(lambda: len(robot.accepted) > 1, timeout=1.0)   # depth 1: no older one
    assert len(robot.accepted) == 1 and robot.receiver.received == 1


def test_a_tampered_payload_is_refused_and_nothing_is_installed(graph, sources, tmp_path):
    files = dict(unpack_bundle(pack_artifact(sources[0])).files)
    payload = bytearray(bundle_bytes(files))
    payload[-1] ^= 0x01                               # one bit of the last file's bytes
    sender = Node('tamperer')
    pub = sender.create_publisher(UInt8MultiArray, ARTIFACTS_TOPIC, ARTIFACTS_QOS)
    robot = Robot(tmp_path / 'robot')
    g = graph(sender, robot.node)
    pub.publish(bundle_message(bytes(payload)))
    assert g.spin_until(lambda: robot.refused), 'the tampered payload was never refused'
    assert robot.accepted == []
    assert 'sha256' in str(robot.refused[0]) and 'differs' in str(robot.refused[0])
    status = robot.receiver.status()
    assert status['refused'] == 1 and status['installed_version'] is None
    assert 'sha256' in status['last_refusal']
    assert list((tmp_path / 'robot').iterdir()) == []


def test_a_torchscript_only_artifact_is_refused_without_the_opt_in(graph, sources, tmp_path):
    """The received artifact goes through load_artifact with the node's trust settings."""
    files = dict(unpack_bundle(pack_artifact(sources[0])).files)
    meta = yaml.safe_load(files[METADATA_FILE])
    del meta['network']
    del meta['files'][WEIGHTS_FILE]
    byo = {METADATA_FILE: yaml.safe_dump(meta).encode(), 'policy.pt': files['policy.pt']}
    sender = Node('byo_sender')
    pub = sender.create_publisher(UInt8MultiArray, ARTIFACTS_TOPIC, ARTIFACTS_QOS)
    robot = Robot(tmp_path / 'robot')
    g = graph(sender, robot.node)
    pub.publish(bundle_message(bundle_bytes(byo)))
    assert g.spin_until(lambda: robot.refused), 'never refused'
    assert 'allow_torchscript is false' in str(robot.refused[0]) and robot.accepted == []


def test_an_artifact_the_node_refuses_is_reported_as_refused(graph, sources, tmp_path):
    trainer = Node('trainer_other_robot')
    ArtifactPublisher(trainer).publish(sources[0])

    def refuse(artifact):
        raise ValueError(f'{artifact.version}: joints differ from the running policy')
    robot = Robot(tmp_path / 'robot', accept=refuse)
    g = graph(trainer, robot.node)
    assert g.spin_until(lambda: robot.refused), 'never refused'
    assert robot.accepted == [] and 'joints differ' in robot.receiver.status()['last_refusal']


def test_an_empty_artifact_dir_is_a_parameter_error(ros_module):
    node = Node('no_dir')
    try:
        with pytest.raises(ParameterError, match='artifact_dir'):
            ArtifactReceiver(node, '', allow_torchscript=False, max_bytes=1, load_timeout=0.0,
                             accept=print, rejected=print)
    finally:
        node.destroy_node()


def test_an_unpackable_directory_is_logged_not_raised(ros_module, tmp_path):
    node = Node('trainer_broken')
    try:
        assert ArtifactPublisher(node).publish(tmp_path / 'missing') is False
    finally:
        node.destroy_node()
