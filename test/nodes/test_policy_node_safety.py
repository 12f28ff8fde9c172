# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""policy_node trusts nothing it receives (issue 20): the robot's limits, fail safe, time, fuzz."""

import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from doubles.hostile_artifacts import marker_artifact
from doubles.ros_graph import graph_factory, policy_graph
from geometry_msgs.msg import Point, Pose, PoseStamped, Quaternion, Twist
from rclpy.parameter import Parameter
from rclpy.serialization import serialize_message
from sensor_msgs.msg import Imu
from std_msgs.msg import String
from std_srvs.srv import SetBool
from test_policy_node import NAMES

from robotrl_ros.nodes.policy_node import PolicyNode
from robotrl_ros.policy.export import export_artifact
from robotrl_ros.policy.synthetic import MLPPolicy, make_synthetic_artifact, synthetic_spec
from robotrl_ros.ros.conversions import cmd_to_twist, make_joint_state
from robotrl_ros.ros.qos import COMMAND_QOS, SENSOR_QOS
from robotrl_ros.ros.robot_description import ROBOT_DESCRIPTION_QOS
from robotrl_ros.tasks.spec import ObsTerm, TaskSpec

N = len(NAMES)
LOWER, UPPER, VELOCITY, EFFORT = -0.4, 0.7, 1.5, 2.0


def urdf(lower=LOWER, upper=UPPER, velocity=VELOCITY, effort=EFFORT):
    joints = ''.join(f'<joint name="{name}" type="revolute"><parent link="l{i}"/>'
                     f'<child link="l{i + 1}"/><limit lower="{lower}" upper="{upper}" '
                     f'velocity="{velocity}" effort="{effort}"/></joint>'
                     for i, name in enumerate(NAMES))
    return f'<robot name="r">{joints}</robot>'


def bounds(interface):
    return {'position': (LOWER, UPPER), 'velocity': (-VELOCITY, VELOCITY),
            'effort': (-EFFORT, EFFORT)}[interface]


@pytest.fixture
def graph(ros_module):
    with graph_factory(policy_graph) as make:
        yield make


#: Per timed input: the observation term that reads it and the spec's command_input.
INPUT_TERMS = {'cmd_vel': ('cmd_vel', 'cmd_vel'), 'imu': ('projected_gravity', 'none'),
               'goal_pose': ('goal_position', 'goal_pose')}


def input_artifact(path, interface, source='cmd_vel'):
    """A random MLP that reads joint states and ``source`` (a timed input), for ``interface``."""
    term, command_input = INPUT_TERMS[source]
    spec = TaskSpec(name='walk', joint_names=tuple(NAMES),
                    observation=(ObsTerm('joint_pos', N), ObsTerm(term, 3)),
                    action_scale=(5.0,) * N, action_offset=(0.0,) * N,
                    command_lower=(-5.0,) * N, command_upper=(5.0,) * N,
                    velocity_limits=(10.0,) * N, control_period=0.02,
                    command_interface=interface, command_input=command_input)
    torch.manual_seed(0)
    return export_artifact(MLPPolicy(spec.obs_dim, N, (16,)), spec, path, algorithm='ppo')


def test_without_robot_limits_the_node_refuses_to_arm(graph, artifacts):
    g = graph(policy_path=str(artifacts['a']), armed=True, trust_artifact_limits=False)
    assert not g.node.controller.armed
    future = g.enable.call_async(SetBool.Request(data=True))
    assert g.spin_until(future.done, 5.0)
    assert not future.result().success and 'no robot limits' in future.result().message
    g.send(NAMES, np.zeros(N), stamp=1.0, wait=False)
    g.spin_for(0.3)
    assert g.commands == []
    status = g.latest_status()
    assert 'no robot limits' in status['fault'] and status['limits_source'] is None


def _enable(g, data=True):
    future = g.enable.call_async(SetBool.Request(data=data))
    assert g.spin_until(future.done, 30.0)
    return future.result()


def test_limits_from_the_robot_description_topic_arm_the_node_and_follow_changes(graph,
                                                                                  artifacts):
    """Issue 20: with the parameter empty, the URDF robot_state_publisher publishes is used."""
    g = graph(policy_path=str(artifacts['a']), armed=True, trust_artifact_limits=False)
    answer = _enable(g)
    assert not answer.success and 'robot_description topic' in answer.message
    assert not g.node.controller.armed
    rsp = g.driver.create_publisher(String, 'robot_description', ROBOT_DESCRIPTION_QOS)

    def publish(text):
        rsp.publish(String(data=text))

    stamps = iter(np.arange(1.0, 100.0, 0.01))

    def commands_after(k, position):
        count = len(g.commands)
        for _ in range(k):
            g.send(NAMES, np.full(N, position), stamp=float(next(stamps)), wait=False)
            g.spin_for(0.02)
        g.spin_until(lambda: len(g.commands) > count, 5.0)
        return np.array([c for _, c in g.commands[count:]])

    publish(urdf())   # armed: true at start waited for it
    assert g.spin_until(lambda: g.node.controller.armed, 30.0)
    commands = commands_after(5, 50.0)
    assert len(commands) and np.all(commands <= UPPER) and np.all(commands >= LOWER)
    publish(urdf(upper=0.2))   # a changed description: clamped to it from the next command
    assert g.spin_until(lambda: g.node.controller.counts['limits_updates'] == 2, 30.0)
    commands = commands_after(5, 50.0)
    assert len(commands) and np.all(commands <= 0.2)
    publish(urdf(upper=0.2))   # the same text again: nothing changes
    g.spin_for(0.2)
    assert g.node.controller.counts['limits_updates'] == 2 and g.node.controller.armed
    status = g.latest_status()
    assert status['limits_source'] == ['robot_description (topic)'], status
    for bad, reason in (('<robot', 'not URDF XML'), (urdf().replace('joint_3', 'other'),
                                                     "joint(s) ['joint_3']")):
        count = len(g.commands)
        publish(bad)   # unusable: the safe command, disarmed, arming refused until fixed
        assert g.spin_until(lambda: not g.node.controller.armed, 30.0)
        assert reason in g.node.controller.fault
        assert g.spin_until(lambda c=count: len(g.commands) > c, 5.0)
        assert np.all(np.array(g.commands[-1][1]) <= UPPER)   # position: hold, inside limits
        answer = _enable(g)
        assert not answer.success and reason in answer.message
        publish(urdf())
        assert g.spin_until(lambda: _enable(g).success, 30.0)


@pytest.mark.parametrize('armed', [False, True])
def test_an_enable_waiting_for_the_limits_is_cancelled_by_a_disarm(graph, artifacts, armed):
    """Arming (armed: true at start, or ~/enable true) waits for the robot's limits.

    A disarm meanwhile cancels it, so the limits arriving later arm nothing; arming works then.
    """
    g = graph(policy_path=str(artifacts['a']), armed=armed, trust_artifact_limits=False)
    if not armed:
        answer = _enable(g)
        assert answer.success and 'limits arrive' in answer.message, answer.message
    assert not g.node.controller.armed
    answer = _enable(g, data=False)
    assert answer.success, answer.message
    rsp = g.driver.create_publisher(String, 'robot_description', ROBOT_DESCRIPTION_QOS)
    rsp.publish(String(data=urdf()))
    assert g.spin_until(lambda: g.node.controller.counts['limits_updates'] == 1, 30.0)
    assert not g.node.controller.armed   # installed, and nothing armed the node
    assert _enable(g).success and g.node.controller.armed


def test_a_description_published_before_the_node_started_is_received(graph, artifacts, ros_module):
    """robot_state_publisher publishes once, transient local: a later node still gets it."""
    from rclpy.node import Node
    rsp = Node('robot_state_publisher_double')
    try:
        rsp.create_publisher(String, 'robot_description', ROBOT_DESCRIPTION_QOS).publish(
            String(data=urdf()))
        g = graph(policy_path=str(artifacts['a']), armed=True, trust_artifact_limits=False)
        assert g.spin_until(lambda: g.node.controller.armed, 30.0)
        assert g.send(NAMES, np.full(N, 50.0), stamp=1.0)
        assert np.all(np.array(g.commands[-1][1]) <= UPPER)
    finally:
        rsp.destroy_node()


def _deploy_parameters(**overrides):
    """policy_node's parameters of config/deploy.yaml (the robot graph), with ``overrides``."""
    config = yaml.safe_load((Path(__file__).parents[2] / 'config' / 'deploy.yaml').read_text())
    return {**config['/**/policy_node']['ros__parameters'], **overrides}


def test_with_the_deploy_parameters_torchscript_is_refused_and_own_artifacts_run(graph,
                                                                                  tmp_path):
    """Issue 20 acceptance 1: the marker never appears; every exported algorithm deploys."""
    marker = tmp_path / 'marker'
    evil = marker_artifact(tmp_path / 'evil', synthetic_spec(N), marker)
    g = graph(**_deploy_parameters(policy_path=str(evil)))
    assert g.node.controller.artifact is None and not marker.exists()
    assert 'allow_torchscript is false' in g.node.last_reload_error
    from robotrl_ros.agents.registry import AGENTS, make_agent
    from robotrl_ros.tasks.registry import make_env
    for algo in sorted(AGENTS):
        task = 'reach' if algo in ('ppo', 'sac') else 'reach_discrete'
        env = make_env(task)
        config = {'bins': (2,) * env.task_spec.obs_dim} if algo == 'q_learning' else {}
        path = export_artifact(make_agent(algo, env, config, 0).policy_module(), env.task_spec,
                               tmp_path / algo, algorithm=algo)
        g = graph(**_deploy_parameters(policy_path=str(path)))
        artifact = g.node.controller.artifact
        assert artifact is not None, (algo, g.node.last_reload_error)
        assert artifact.backend == 'numpy' and artifact._torchscript is None, algo


def test_the_velocity_reload_with_limits_of_100_is_refused(graph, artifacts, tmp_path):
    """Issue 20 finding 3: accepted, and the next command was -30.6 on a position topic."""
    g = graph(policy_path=str(artifacts['a']), armed=True, robot_description=urdf(),
              enable_policy_updates=True, trusted_artifact_dirs=[str(tmp_path)])
    wild = make_synthetic_artifact(tmp_path / 'wild', n_joints=N, hidden=(8,), limit=100.0,
                                   command_interface='velocity')
    wide = make_synthetic_artifact(tmp_path / 'wide', n_joints=N, hidden=(8,), limit=100.0)
    for k, update in enumerate((wild, wide)):
        g.updates.publish(String(data=str(update)))
        assert g.spin_until(lambda k=k: g.node.controller.counts['reload_failures'] == k + 1,
                            30.0)
    status = g.latest_status(lambda s: s['counts']['reload_failures'] == 2)
    assert "wider than the robot's for joint_0 [-100, 100] > robot [-0.4, 0.7]" in \
        status['last_reload_error']
    for k in range(5):   # the old policy keeps commanding, inside the robot's limits
        assert g.send(NAMES, np.full(N, 50.0 * (-1) ** k), stamp=1.0 + k)
    assert g.node.controller.artifact.path == artifacts['a']
    commands = np.array([c for _, c in g.commands])
    assert np.all(commands >= LOWER) and np.all(commands <= UPPER)
    assert status['limits_source'] == ['robot_description'] and status['counts']['reloads'] == 1


@pytest.mark.parametrize('interface', ['position', 'velocity', 'effort'])
@pytest.mark.parametrize('event', ['stale_cmd_vel', 'stale_imu', 'stale_goal_pose', 'disarm',
                                   'raising_network'])
def test_the_safe_command_follows_within_one_period_plus_input_timeout(graph, tmp_path,
                                                                      interface, event):
    period, input_timeout = 0.02, 0.2
    source = event.removeprefix('stale_') if event.startswith('stale_') else 'cmd_vel'
    g = graph(policy_path=str(input_artifact(tmp_path / 'p', interface, source)), armed=True,
              robot_description=urdf(), control_mode='timer', control_period=period,
              input_timeout=input_timeout, goal_pose_timeout=-1.0)   # goal: input_timeout
    msg_type, topic, message, qos = {
        'cmd_vel': (Twist, 'cmd_vel', cmd_to_twist([0.8, 0.0, 0.3]), COMMAND_QOS),
        'imu': (Imu, 'imu', Imu(orientation=Quaternion(x=0.1, w=1.0)), SENSOR_QOS),
        'goal_pose': (PoseStamped, 'goal_pose',
                      PoseStamped(pose=Pose(position=Point(x=0.4, y=-0.2, z=0.3))),
                      COMMAND_QOS)}[source]
    cmd_pub = g.driver.create_publisher(msg_type, topic, qos)
    assert g.spin_until(lambda: cmd_pub.get_subscription_count() > 0, 5.0)
    stamp = 1.0

    def tick(cmd=True):
        nonlocal stamp
        stamp += period
        if cmd:
            cmd_pub.publish(message)
        g.send(NAMES, np.full(N, 0.1), stamp=stamp, wait=False)
        g.spin_for(period)

    for _ in range(15):
        tick()
    assert g.commands and g.node.controller.fault is None
    if interface != 'position':
        assert g.commands[-1][1] != [0.0] * N      # moving
    started = time.monotonic()
    if event == 'raising_network':
        def boom(obs):
            raise torch.jit.Error('The following operation failed in the TorchScript '
                                  'interpreter')   # not a RuntimeError
        g.node.controller.artifact.act = boom
    elif event == 'disarm':
        future = g.enable.call_async(SetBool.Request(data=False))
        assert g.spin_until(future.done, 5.0) and future.result().success
        # The reply can overtake the safe command sent before it; for position that command
        # repeats the last one, so only its arrival (not its value) tells it apart.
        assert g.settle()
    deadline = started + period + input_timeout + 0.5   # + slack for a busy machine
    fault = {'disarm': None, 'raising_network': 'policy raised Error'}.get(
        event, f'no fresh {source}')

    def safe_sent():
        """Whether the last command came after the event and is the safe one.

        Zeros, or for position the command before it again.
        """
        (at, last), (_, before) = g.commands[-1], g.commands[-2]
        safe = before if interface == 'position' else [0.0] * N
        return at > started and last == safe and (
            fault is None or fault in (g.node.controller.fault or ''))

    while time.monotonic() < deadline and not safe_sent():
        tick(cmd=not event.startswith('stale_'))
    assert safe_sent(), (event, g.node.controller.fault, g.commands[-3:])
    latency = g.commands[-1][0] - started
    bound = period + (input_timeout if event.startswith('stale_') else 0.0)
    assert latency <= bound + 0.5, f'safe command after {latency:.3f} s'
    if event == 'disarm':   # and nothing after it
        count = len(g.commands)
        tick()
        tick()
        assert len(g.commands) == count


@pytest.mark.parametrize('jump', [1.0, 0.0])   # with and without the forward-jump check
def test_one_stamp_of_2e9_does_not_lock_the_node_out(graph, artifacts, jump):
    """Issue 20 finding 5: after one joint_states stamped 2e9 s every later one was rejected."""
    g = graph(policy_path=str(artifacts['a']), armed=True, robot_description=urdf(),
              state_timeout=0.3, max_stamp_jump=jump)
    assert g.send(NAMES, np.zeros(N), stamp=100.0)
    g.send(NAMES, np.zeros(N), stamp=2e9, wait=False)
    g.spin_for(0.05)
    sane_from, stamp = time.monotonic(), 100.0
    resumed = None
    while time.monotonic() < sane_from + 3.0 and resumed is None:
        stamp += 0.02
        count = len(g.commands)
        g.send(NAMES, np.zeros(N), stamp=stamp, wait=False)
        g.spin_for(0.02)
        if len(g.commands) > count and abs(g.node.controller.inputs.stamp - stamp) < 1e-6:
            resumed = time.monotonic()
    assert resumed is not None, g.node.controller.counts
    assert resumed - sane_from <= 0.3 + 0.5     # within state_timeout (+ slack)
    counts = g.node.controller.counts
    assert counts['stamp_jumps'] == 1 if jump else counts['stamp_resets'] == 1


def _fuzzed_states(rng, count):
    """Mostly malformed joint_states, one kind after another.

    NaN/Inf, 1e12, missing/duplicate/extra joints, wrong lengths, bad stamps, and raw CDR with
    flipped or cut bytes.
    """
    for k in range(count):
        names = list(NAMES)
        position = rng.uniform(-2, 2, N)
        velocity = rng.uniform(-5, 5, N)
        stamp = 10.0 + 0.01 * k
        kind = k % 9
        if kind == 0:
            position[rng.integers(N)] = rng.choice([np.nan, np.inf, -np.inf])
        elif kind == 1:
            position = rng.choice([1e12, -1e12]) * rng.random(N)
            velocity = rng.choice([1e12, -1e12, 0.0]) * rng.random(N)
        elif kind == 2:
            drop = int(rng.integers(N))
            names, position, velocity = (names[:drop] + names[drop + 1:],
                                         np.delete(position, drop), np.delete(velocity, drop))
        elif kind == 3:
            names[1] = names[0]
        elif kind == 4:
            names, position, velocity = (names + ['extra'], np.append(position, 1e12),
                                         np.append(velocity, np.nan))
        elif kind == 5:
            stamp = float(rng.choice([0.0, -5.0, 2e9, 1e-9, 9.99e8]))
        msg = make_joint_state(names, position, velocity, stamp=max(stamp, 0.0))
        if kind == 6:
            msg.velocity = list(msg.velocity[:int(rng.integers(N))])
        elif kind == 7:
            msg.position = list(msg.position) + [0.0]
        elif kind == 8:
            data = bytearray(serialize_message(msg))
            if rng.random() < 0.5:
                del data[int(rng.integers(4, len(data))):]
            else:
                for _ in range(3):
                    data[int(rng.integers(4, len(data)))] = int(rng.integers(256))
            yield bytes(data)
            continue
        yield msg


@pytest.mark.parametrize('raw_cdr', [True, False])
def test_3000_fuzzed_joint_states_never_give_a_command_outside_the_limits(graph, artifacts,
                                                                         raw_cdr):
    g = graph(policy_path=str(artifacts['a']), armed=True, robot_description=urdf(),
              raw_cdr=raw_cdr, max_command_rate=3.0)
    rng = np.random.default_rng(int(raw_cdr))
    for k, item in enumerate(_fuzzed_states(rng, 3000)):
        g.states.publish(item)
        g.executor.spin_once(timeout_sec=0.0)
        if k % 10 == 0:
            g.spin_for(0.002)
    g.spin_for(0.2)
    commands = np.array([c for _, c in g.commands])
    assert len(commands) > 100                           # sane ones were answered
    assert np.all(np.isfinite(commands))
    assert np.all(commands >= LOWER) and np.all(commands <= UPPER)
    # the node is alive and well: a sane state is answered, its status comes
    assert g.send(NAMES, np.zeros(N), stamp=g.node.controller.inputs.stamp + 0.01)
    status = g.latest_status(lambda s: s['counts']['states'] > 0)
    assert status['counts']['invalid_inputs'] > 100 and status['node'] == 'policy_node'


def test_bad_limit_sources_are_named_at_start(ros_module, tmp_path):
    with pytest.raises(ValueError, match='robot_description: not URDF XML'):
        PolicyNode(parameter_overrides=[Parameter('robot_description', value='<robot')])
    with pytest.raises(ValueError, match='joint_limits .*missing.yaml: cannot read'):
        PolicyNode(parameter_overrides=[
            Parameter('joint_limits', value=str(tmp_path / 'missing.yaml'))])


@pytest.fixture(scope='module')
def artifacts(tmp_path_factory):
    root = tmp_path_factory.mktemp('artifacts')
    return {'a': make_synthetic_artifact(root / 'a', n_joints=N, hidden=(32,), seed=0)}
