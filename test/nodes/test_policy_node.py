# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""policy_node on a real (DDS-isolated) graph: the node and a driver in one executor."""

import time

import numpy as np
import pytest
from doubles.ros_graph import TIMEOUT, graph_factory, policy_graph
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray, String
from std_srvs.srv import SetBool

from robotrl_ros.agents.ppo import PPO
from robotrl_ros.nodes.policy_node import PolicyNode
from robotrl_ros.policy.artifact import load_artifact
from robotrl_ros.policy.export import export_artifact
from robotrl_ros.policy.synthetic import make_synthetic_artifact
from robotrl_ros.ros.conversions import make_joint_state
from robotrl_ros.ros.params import ParameterError
from robotrl_ros.ros.qos import COMMAND_QOS
from robotrl_ros.tasks.observation import RobotState, build_observation

N = 6
NAMES = [f'joint_{i}' for i in range(N)]


@pytest.fixture(scope='module')
def artifacts(tmp_path_factory):
    root = tmp_path_factory.mktemp('artifacts')
    return {name: make_synthetic_artifact(root / name, n_joints=N, hidden=(32,), seed=seed)
            for name, seed in (('a', 0), ('b', 1))}


def make_graph(**params):
    # Issue 20: without the robot's limits the node arms only when told to trust the
    # artifact's (these tests' synthetic robots have no URDF).
    if 'robot_description' not in params and 'joint_limits' not in params:
        params.setdefault('trust_artifact_limits', True)
    return policy_graph(**params)


@pytest.fixture
def graph(ros_module):
    with graph_factory(make_graph) as make:
        yield make


def expected_command(policy, position, velocity, last_action):
    obs = build_observation(policy.spec, RobotState(np.asarray(position), np.asarray(velocity),
                                                    last_action=last_action))
    return policy.spec.action_to_command(policy.act(obs))


def test_commands_follow_the_policy_for_shuffled_joint_orders(graph, artifacts):
    g = graph(policy_path=str(artifacts['a']), armed=True)
    policy = load_artifact(artifacts['a'])
    rng = np.random.default_rng(0)
    last = np.zeros(N)
    for k in range(1, 6):
        order = rng.permutation(N)
        position, velocity = rng.uniform(-1, 1, N), rng.uniform(-1, 1, N)
        names = [NAMES[i] for i in order] + ['gripper']  # extra joints are ignored
        assert g.send(names, [*position[order], 9.9], [*velocity[order], 9.9], stamp=0.1 * k)
        want = expected_command(policy, position, velocity, last)
        np.testing.assert_allclose(g.commands[-1][1], want, atol=1e-6)
        last = policy.spec.command_to_action(want)
    assert len(g.commands) == 5
    status = g.latest_status(lambda s: s['counts']['commands'] == 5)
    assert status['state'] == 'armed' and status['policy_version'] == policy.version
    assert status['counts']['commands'] == 5 and status['inference_latency_ms']['p50'] > 0
    assert status['inference_backend'] == policy.backend == 'numpy'


@pytest.mark.parametrize('case', ['missing_joint', 'short_arrays', 'nan', 'older_stamp'])
def test_bad_joint_states_are_reported_and_never_commanded(graph, artifacts, case):
    g = graph(policy_path=str(artifacts['a']), armed=True)
    assert g.send(NAMES, np.zeros(N), stamp=5.0)
    before = len(g.commands)
    msg = make_joint_state(NAMES, np.zeros(N), np.zeros(N), stamp=6.0)
    if case == 'missing_joint':
        msg = make_joint_state(NAMES[1:], np.zeros(N - 1), np.zeros(N - 1), stamp=6.0)
    elif case == 'short_arrays':
        msg.velocity = [0.0] * (N - 2)
    elif case == 'nan':
        msg.position[2] = float('nan')
    else:
        msg = make_joint_state(NAMES, np.zeros(N), np.zeros(N), stamp=4.0)
    g.states.publish(msg)
    status = g.latest_status(lambda s: s['last_input_error'])
    assert len(g.commands) == before
    error = status['last_input_error']
    assert error and {'missing_joint': "lacks joint(s) ['joint_0']", 'short_arrays': 'velocities',
                      'nan': 'NaN', 'older_stamp': 'non-monotonic'}[case] in error
    if case == 'older_stamp':
        assert status['counts']['non_monotonic'] == 1
    else:
        assert status['counts']['invalid_inputs'] == 1
    if case == 'missing_joint':
        assert status['missing_joints'] == ['joint_0'] and status['state'] == 'faulted'


def test_undecodable_joint_states_bytes_are_reported_and_never_commanded(graph, artifacts):
    g = graph(policy_path=str(artifacts['a']), armed=True)
    assert g.send(NAMES, np.zeros(N), stamp=5.0)
    before = len(g.commands)
    g.node._on_joint_state_bytes(b'\x00\x01\x00\x00\x05')   # truncated after the header
    status = g.latest_status(lambda s: s['last_input_error'])
    assert len(g.commands) == before and status['counts']['invalid_inputs'] == 1
    assert 'joint_states: malformed JointState CDR (5 bytes)' in status['last_input_error']


def test_out_of_range_states_give_commands_within_limits(graph, artifacts):
    g = graph(policy_path=str(artifacts['a']), armed=True, joint_limit_margin=0.1)
    policy = load_artifact(artifacts['a'])
    for k, value in enumerate((1e6, -1e6, 50.0)):
        assert g.send(NAMES, np.full(N, value), np.full(N, -value), stamp=1.0 + k)
        command = np.asarray(g.commands[-1][1])
        assert np.all(command <= np.asarray(policy.spec.command_upper) - 0.1 + 1e-12)
        assert np.all(command >= np.asarray(policy.spec.command_lower) + 0.1 - 1e-12)


def test_starts_disarmed_and_enable_arms_and_disarms(graph, artifacts):
    g = graph(policy_path=str(artifacts['a']))
    g.send(NAMES, np.zeros(N), stamp=1.0, wait=False)
    g.spin_for(0.2)
    assert g.commands == [] and g.latest_status()['state'] == 'disarmed'
    for armed, stamp in ((True, 2.0), (False, 3.0)):
        future = g.enable.call_async(SetBool.Request(data=armed))
        assert g.spin_until(future.done, TIMEOUT) and future.result().success
        count = len(g.commands)
        answered = g.send(NAMES, np.zeros(N), stamp=stamp, wait=armed)
        if not armed:
            g.spin_for(0.2)   # a disarmed node must stay silent: nothing to wait for
        assert len(g.commands) == count + (1 if armed else 0) and answered in (armed, None)


def test_watchdog_stops_commands_once_the_state_is_older_than_the_timeout(graph, artifacts):
    timeout, period = 1.0, 0.02   # states come every spin, far more often than that
    g = graph(policy_path=str(artifacts['a']), armed=True, control_mode='timer',
              control_period=period, state_timeout=timeout, timeout_action='stop')
    stepped = g.record_steps()
    for k in range(10):
        g.send(NAMES, np.zeros(N), stamp=1.0 + 0.01 * k, wait=False)
        g.spin_for(0.02)
    status = g.latest_status(lambda s: s['state'] == 'faulted')
    assert status['state'] == 'faulted' and 'no fresh joint_states' in status['fault']
    assert status['counts']['timeouts'] == 1
    count = len(g.commands)
    g.spin_for(0.3)                            # faulted: no command follows, however long
    assert len(g.commands) == count >= 1
    # Every command was computed from a state at most state_timeout old (the node's own step
    # times: how late a loaded machine runs the timer does not matter).
    last_state = g.node.controller.inputs.received
    assert stepped and stepped[-1] - last_state <= timeout, stepped[-1] - last_state


@pytest.mark.parametrize('action', ['hold', 'stop'])
def test_on_message_watchdog_sleeps_while_states_flow_and_acts_when_they_stop(graph, artifacts,
                                                                            action):
    # A state every spin, far more often than state_timeout even on a loaded machine.
    timeout, period = 1.0, 0.02
    g = graph(policy_path=str(artifacts['a']), armed=True, control_mode='on_message',
              control_period=period, state_timeout=timeout, timeout_action=action)
    control_timer = g.node.control_timers.timer
    for k in range(30):
        assert g.send(NAMES, np.zeros(N), stamp=1.0 + 0.01 * k)
        assert control_timer.is_canceled()          # no control-rate wake-ups meanwhile
    assert g.node.controller.counts['timeouts'] == 0 and len(g.commands) >= 30
    last_state, count = g.node.controller.inputs.received, len(g.commands)
    assert g.spin_until(lambda: g.node.controller.counts['timeouts'] == 1, TIMEOUT)
    assert time.monotonic() - last_state >= timeout     # never before the timeout
    assert not control_timer.is_canceled()
    if action == 'hold':   # the last safe position again every period
        assert g.spin_until(lambda: len(g.commands) - count >= 5, TIMEOUT)
    else:                  # stop: the safe command once (issue 20), then nothing
        assert g.spin_until(lambda: len(g.commands) - count >= 1, TIMEOUT)
        g.spin_for(0.3)
        assert len(g.commands) - count == 1
    assert g.node.controller.counts['timeouts'] == 1
    g.send(NAMES, np.zeros(N), stamp=5.0, wait=False)    # states again: the ticks stop
    assert g.spin_until(lambda: not g.node.controller.timed_out, TIMEOUT)
    assert g.spin_until(control_timer.is_canceled, TIMEOUT)


def test_hot_reload_swaps_without_missing_a_step_and_rejects_corrupt_updates(
        graph, artifacts, tmp_path):
    g = graph(policy_path=str(artifacts['a']), armed=True, enable_policy_updates=True,
              trusted_artifact_dirs=[str(tmp_path), str(artifacts['b'].parent)])
    a, b = load_artifact(artifacts['a']), load_artifact(artifacts['b'])
    corrupt = tmp_path / 'corrupt'
    corrupt.mkdir()
    (corrupt / 'policy.yaml').write_text((artifacts['a'] / 'policy.yaml').read_text())
    (corrupt / 'policy.pt').write_bytes(b'not torchscript')
    last = np.zeros(N)
    versions = []
    k = 0
    # Until b runs (loading happens off the control path: how many steps it takes depends on
    # the machine), then ten steps more.
    while k < 40 or versions[-10:] != [b.version] * 10:
        assert k < 2000, 'update b never took over'
        if k == 5:
            g.updates.publish(String(data=str(corrupt)))
        if k == 20:
            g.updates.publish(String(data=str(artifacts['b'])))
        position = np.full(N, 0.01 * k)
        assert g.send(NAMES, position, stamp=1.0 + k), f'state {k} was not answered'
        command = np.asarray(g.commands[-1][1])
        policy = a if np.allclose(command, expected_command(a, position, np.zeros(N), last),
                                  atol=1e-6) else b
        np.testing.assert_allclose(command, expected_command(policy, position, np.zeros(N), last),
                                   atol=1e-6)
        versions.append(policy.version)
        last = policy.spec.command_to_action(command)
        g.spin_for(0.01)
        k += 1
    assert len(g.commands) == k                  # every state answered, none missed
    switch = versions.index(b.version)
    assert 20 <= switch and set(versions[switch:]) == {b.version}
    assert set(versions[:switch]) == {a.version}
    status = g.latest_status(lambda s: s['counts']['reloads'] == 2)
    assert status['policy_version'] == b.version
    assert status['counts']['reload_failures'] == 1 and status['counts']['reloads'] == 2
    assert status['last_reload_error'] is None  # cleared by the good update


def test_an_armed_node_installs_and_reports_an_update_while_no_state_arrives(graph, artifacts):
    # An on-policy trainer pauses its lockstep simulator after each update until this node
    # reports the new policy, so no state comes to install it at: the node installs it between
    # states and reports it at once, not at the next status_period.
    g = graph(policy_path=str(artifacts['a']), armed=True, enable_policy_updates=True,
              status_period=600.0, state_timeout=600.0,
              trusted_artifact_dirs=[str(artifacts['b'].parent)])
    assert g.send(NAMES, np.zeros(N), stamp=1.0)
    answered = len(g.commands)
    g.updates.publish(String(data=str(artifacts['b'])))
    b = load_artifact(artifacts['b']).version
    assert g.spin_until(lambda: any(s['policy_version'] == b for s in g.status), TIMEOUT)
    assert len(g.commands) == answered           # installed without commanding anything
    assert g.send(NAMES, np.zeros(N), stamp=1.02)
    np.testing.assert_allclose(g.commands[-1][1], expected_command(
        load_artifact(artifacts['b']), np.zeros(N), np.zeros(N),
        load_artifact(artifacts['a']).spec.command_to_action(np.asarray(g.commands[-2][1]))),
        atol=1e-6)


def test_a_reannounced_unchanged_artifact_is_not_loaded_again(graph, artifacts, tmp_path):
    # A trainer re-announces its latest artifact while nobody commands; a re-export to the same
    # path (new files) is a new policy and is loaded.
    path = make_synthetic_artifact(tmp_path / 'published', n_joints=N, hidden=(32,), seed=0)
    g = graph(enable_policy_updates=True, trusted_artifact_dirs=[str(tmp_path)])
    g.updates.publish(String(data=str(path)))
    assert g.spin_until(lambda: g.node.controller.counts['reloads'] == 1, TIMEOUT)
    for _ in range(3):
        g.updates.publish(String(data=str(path)))
        g.spin_for(0.1)
    make_synthetic_artifact(path, n_joints=N, hidden=(32,), seed=7)
    g.updates.publish(String(data=str(path)))
    new = load_artifact(path).version
    assert g.spin_until(lambda: g.status and g.status[-1]['policy_version'] == new, TIMEOUT)
    assert g.latest_status()['counts']['reloads'] == 2


def test_watch_policy_file_reloads_a_reexported_artifact(graph, artifacts, tmp_path):
    path = make_synthetic_artifact(tmp_path / 'watched', n_joints=N, hidden=(32,), seed=0)
    g = graph(policy_path=str(path), watch_policy_file=True)
    first = g.latest_status()['policy_version']
    make_synthetic_artifact(path, n_joints=N, hidden=(32,), seed=7)
    new = load_artifact(path).version
    assert g.spin_until(lambda: g.status and g.status[-1]['policy_version'] == new, TIMEOUT)
    assert new != first


@pytest.mark.parametrize('problem', ['missing', 'corrupt'])
def test_missing_or_corrupt_artifact_faults_and_never_commands(graph, artifacts, tmp_path,
                                                               problem):
    path = tmp_path / 'nothing'
    if problem == 'corrupt':
        path.mkdir()
        (path / 'policy.pt').write_bytes((artifacts['a'] / 'policy.pt').read_bytes())
        (path / 'policy.yaml').write_text('format_version: 1\ntask: [\n')
    g = graph(policy_path=str(path), armed=True)
    g.send(NAMES, np.zeros(N), stamp=1.0, wait=False)
    g.spin_for(0.3)
    status = g.latest_status()
    assert g.commands == [] and status['state'] == 'faulted'
    assert status['policy_version'] is None
    assert ('not a directory' if problem == 'missing' else 'policy.yaml: not valid YAML') in \
        status['last_reload_error']


@pytest.mark.parametrize('name, value, message', [
    ('state_timeout', 'fast', "parameter 'state_timeout' expects a float"),
    ('armed', 1, "parameter 'armed' expects a bool"),
    ('control_mode', 'sometimes', "'control_mode' must be on_message or timer"),
    ('default_goal', [1.0], "'default_goal' must be empty or 2-3 numbers"),
    ('max_command_delta', -1.0, "'max_command_delta' must be >= 0"),
])
def test_wrong_parameters_are_named(ros_module, name, value, message):
    with pytest.raises(ParameterError, match=message):
        PolicyNode(parameter_overrides=[Parameter(name, value=value)])


def test_integer_for_a_float_parameter_is_accepted(graph):
    g = graph(state_timeout=1)
    assert g.node.params.state_timeout == 1.0


def test_goal_pose_feeds_the_observation(graph, tmp_path):
    from robotrl_ros.policy.export import export_artifact
    from robotrl_ros.policy.synthetic import MLPPolicy
    from robotrl_ros.ros.conversions import goal_to_pose
    from robotrl_ros.tasks.reach import REACH_SPEC

    path = export_artifact(MLPPolicy(12, 3, (16,)), REACH_SPEC, tmp_path / 'reach',
                           algorithm='ppo')
    policy = load_artifact(path)
    g = graph(policy_path=str(path), armed=True)
    goal_pub = g.driver.create_publisher(type(goal_to_pose([0, 0, 0])), 'goal_pose', COMMAND_QOS)
    g.send(['x', 'y', 'z'], [0.1, 0.2, 0.3], stamp=1.0, wait=False)
    status = g.latest_status(lambda s: s['fault'])
    # Issue 20: no command can be built -> only the safe command (zero acceleration).
    assert all(c == [0.0, 0.0, 0.0] for _, c in g.commands)
    assert 'goal_pose' in status['fault'] and status['state'] == 'faulted'
    goal = np.array([0.5, -0.5, 0.25])
    assert g.spin_until(lambda: goal_pub.get_subscription_count() > 0, TIMEOUT)
    goal_pub.publish(goal_to_pose(goal))
    assert g.spin_until(lambda: g.node.controller.inputs.goal is not None, TIMEOUT)
    assert g.send(['z', 'x', 'y'], [0.3, 0.1, 0.2], [0.0, 0.1, 0.0], stamp=2.0)
    obs = build_observation(policy.spec, RobotState(np.array([0.1, 0.2, 0.3]),
                                                    np.array([0.1, 0.0, 0.0]), goal=goal))
    np.testing.assert_allclose(g.commands[-1][1], policy.command(obs), atol=1e-6)


def test_joint_command_topic_names_joints_and_carries_the_state_stamp(graph, artifacts):
    g = graph(policy_path=str(artifacts['a']), armed=True, joint_command_topic='joint_commands')
    named = []
    g.driver.create_subscription(JointState, 'joint_commands', named.append, COMMAND_QOS)
    assert g.spin_until(lambda: g.driver.count_publishers('joint_commands') > 0, TIMEOUT)
    assert g.send(NAMES[::-1], np.linspace(-0.5, 0.5, N), stamp=12.5)
    assert g.spin_until(lambda: named, TIMEOUT)
    assert list(named[-1].name) == NAMES
    assert named[-1].header.stamp.sec == 12 and named[-1].header.stamp.nanosec == 500_000_000
    np.testing.assert_allclose(named[-1].position, g.commands[-1][1])


def test_a_new_episode_command_resets_the_last_action(graph, artifacts):
    from geometry_msgs.msg import Twist

    from robotrl_ros.ros.conversions import cmd_to_twist

    g = graph(policy_path=str(artifacts['a']), armed=True)
    policy = load_artifact(artifacts['a'])
    cmd_pub = g.driver.create_publisher(Twist, 'cmd_vel', COMMAND_QOS)
    assert g.spin_until(lambda: cmd_pub.get_subscription_count() > 0, TIMEOUT)
    cmd_pub.publish(cmd_to_twist([0.5, 0.0, 0.0]))      # the first episode's command
    rng = np.random.default_rng(3)
    for k in range(1, 4):
        assert g.send(NAMES, rng.uniform(-1, 1, N), rng.uniform(-1, 1, N), stamp=0.1 * k)
    last = policy.spec.command_to_action(np.asarray(g.commands[-1][1]))
    cmd_pub.publish(cmd_to_twist([0.5, 0.0, 0.0]))      # republished: same episode
    cmd_pub.publish(cmd_to_twist([-0.2, 0.1, 0.3]))     # the simulator's next episode
    assert g.spin_until(lambda: g.node.controller.counts['episodes'] == 1, TIMEOUT)
    position, velocity = rng.uniform(-1, 1, N), rng.uniform(-1, 1, N)
    assert g.send(NAMES, position, velocity, stamp=1.0)
    want = expected_command(policy, position, velocity, np.zeros(N))
    np.testing.assert_allclose(g.commands[-1][1], want, atol=1e-6)
    assert not np.allclose(expected_command(policy, position, velocity, last), want)
    status = g.latest_status(lambda s: s['counts']['commands'] == 4)
    assert status['counts']['episodes'] == 1


def test_policy_updates_are_not_subscribed_unless_enabled(graph, artifacts):
    g = graph(policy_path=str(artifacts['a']))
    g.spin_for(0.2)
    assert g.driver.count_subscribers('policy_updates') == 0
    assert g.latest_status()['policy_updates'] == 'disabled'
    on = graph(policy_path=str(artifacts['a']), enable_policy_updates=True)
    assert on.spin_until(lambda: on.driver.count_subscribers('policy_updates') == 1, 5.0)


def test_hostile_updates_are_refused_quickly_and_the_old_policy_keeps_commanding(
        graph, tmp_path):
    from doubles.hostile_artifacts import HOSTILE_CASES, hostile_update

    from robotrl_ros.policy.synthetic import synthetic_spec
    trusted, outside = tmp_path / 'trusted', tmp_path / 'outside'
    outside.mkdir()
    a = make_synthetic_artifact(trusted / 'a', n_joints=N, hidden=(32,), seed=0)
    marker = tmp_path / 'marker'
    g = graph(policy_path=str(a), armed=True, enable_policy_updates=True,
              trusted_artifact_dirs=[str(trusted)], max_artifact_bytes=64 * 1024 * 1024)
    assert g.spin_until(lambda: g.updates.get_subscription_count() > 0, 5.0)
    policy, stamp, last = load_artifact(a), 1.0, np.zeros(N)
    for failures, case in enumerate(sorted(HOSTILE_CASES), start=1):
        g.updates.publish(String(data=str(hostile_update(case, a, trusted, outside,
                                                         synthetic_spec(N), marker))))
        sent = time.monotonic()
        while g.node.controller.counts['reload_failures'] < failures:   # loader thread
            g.spin_for(0.005)
            stamp += 0.01
            position = np.full(N, 0.01 * (stamp % 7))
            assert g.send(NAMES, position, stamp=stamp), f'{case}: the old policy stopped'
            command = np.asarray(g.commands[-1][1])
            np.testing.assert_allclose(command, expected_command(policy, position, np.zeros(N),
                                                                 last), atol=1e-6)
            last = policy.spec.command_to_action(command)
            assert time.monotonic() - sent < 10.0, f'{case} was never refused'
        assert time.monotonic() - sent < 1.0, f'{case}: refused only after 1 s'
        stamp += 0.01   # and the running policy answers the next state too
        assert g.send(NAMES, np.full(N, 0.02), stamp=stamp), f'{case}: the old policy stopped'
        command = np.asarray(g.commands[-1][1])
        np.testing.assert_allclose(command, expected_command(policy, np.full(N, 0.02),
                                                             np.zeros(N), last), atol=1e-6)
        last = policy.spec.command_to_action(command)
        assert HOSTILE_CASES[case] in g.node.last_reload_error, g.node.last_reload_error
        assert g.node.controller.artifact.version == policy.version
    assert not marker.exists()
    b = make_synthetic_artifact(trusted / 'b', n_joints=N, hidden=(32,), seed=1)
    g.updates.publish(String(data=str(b)))
    new = load_artifact(b).version
    assert g.spin_until(lambda: g.latest_status(timeout=0.2)['policy_version'] == new, 10.0)


def test_trusted_artifact_dirs_default_to_the_directory_of_policy_path(tmp_path):
    from robotrl_ros.policy.loader import trusted_artifact_dirs
    real = str(tmp_path.resolve())
    assert trusted_artifact_dirs([], '') == []
    assert trusted_artifact_dirs([], str(tmp_path / 'p')) == [real]
    assert trusted_artifact_dirs(['/runs'], str(tmp_path / 'p')) == ['/runs', f'{real}/p']


def test_exploring_node_publishes_the_sample_behind_each_command(graph, artifacts, tmp_path):
    # The trainer scores the sample (before its clamp), as in-process PPO does: one per
    # command, clamping to the command's action.
    spec = load_artifact(artifacts['a']).spec
    agent = PPO(spec.obs_dim, spec.action_dim, config={'init_log_std': 1.0}, seed=0)
    path = export_artifact(agent.policy, spec, tmp_path / 'explorer', algorithm='ppo')
    g = graph(policy_path=str(path), armed=True, explore=True, allow_torchscript=True)
    events = []
    g.driver.create_subscription(Float64MultiArray, 'policy_node/explore_sample',
                                 lambda m: events.append(('sample', list(m.data))), COMMAND_QOS)
    g.driver.create_subscription(Float64MultiArray, 'forward_position_controller/commands',
                                 lambda m: events.append(('command', list(m.data))), COMMAND_QOS)
    assert g.spin_until(lambda: g.driver.count_publishers('policy_node/explore_sample') > 0,
                        TIMEOUT)
    for k in range(1, 9):
        assert g.send(NAMES, np.zeros(N), stamp=0.1 * k)
    assert g.spin_until(lambda: len(events) >= 16, TIMEOUT)
    g.spin_until(lambda: False, 0.3)
    # (Published in this order; two topics may be delivered in either, so only counts here.)
    assert sorted(kind for kind, _ in events) == ['command'] * 8 + ['sample'] * 8
    samples = np.array([data for kind, data in events if kind == 'sample'])
    commands = np.array([data for kind, data in events if kind == 'command'])
    assert np.abs(samples).max() > 1.0   # std e: some samples leave [-1, 1]
    np.testing.assert_allclose(np.stack([spec.command_to_action(c) for c in commands]),
                               np.clip(samples, -1.0, 1.0), atol=1e-9)


def test_deterministic_node_publishes_no_sample(graph, artifacts):
    g = graph(policy_path=str(artifacts['a']), armed=True)
    samples = []
    g.driver.create_subscription(Float64MultiArray, 'policy_node/explore_sample',
                                 samples.append, COMMAND_QOS)
    for k in range(1, 4):
        assert g.send(NAMES, np.zeros(N), stamp=0.1 * k)
    g.spin_until(lambda: False, 0.3)
    assert samples == []
