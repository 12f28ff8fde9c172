# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Policy node logic below ROS: command filter, watchdog, arming, stamps, swaps."""

import dataclasses

import numpy as np
import pytest
import torch
import yaml

from robotrl_ros.policy.artifact import load_artifact
from robotrl_ros.policy.controller import ControllerConfig, PolicyController
from robotrl_ros.policy.export import export_artifact
from robotrl_ros.policy.joint_limits import limits_from_urdf
from robotrl_ros.policy.safety import CommandFilter
from robotrl_ros.policy.synthetic import MLPPolicy, make_synthetic_artifact, synthetic_spec
from robotrl_ros.tasks.observation import RobotState, build_observation, projected_gravity
from robotrl_ros.tasks.reach import REACH_SPEC
from robotrl_ros.tasks.spec import ObsTerm

N = 4


@pytest.fixture(scope='module')
def artifact(tmp_path_factory):
    path = make_synthetic_artifact(tmp_path_factory.mktemp('a') / 'p', n_joints=N,
                                   hidden=(16,), seed=3)
    return load_artifact(path)


@pytest.fixture(scope='module')
def artifact_b(tmp_path_factory):
    path = make_synthetic_artifact(tmp_path_factory.mktemp('b') / 'p', n_joints=N,
                                   hidden=(16,), seed=4)
    return load_artifact(path)


def _expected(artifact, position, velocity, last_action):
    obs = build_observation(artifact.spec, RobotState(position, velocity,
                                                      last_action=last_action))
    return artifact.spec.action_to_command(artifact.act(obs))


def _armed(artifact, node_limits=None, **kw):
    kw.setdefault('trust_artifact_limits', node_limits is None)   # these tests: no robot limits
    ctrl = PolicyController(ControllerConfig(**kw), artifact, node_limits)
    assert ctrl.arm(True) is None
    return ctrl


# --- CommandFilter ---------------------------------------------------------------------------
def test_filter_clamps_to_limits_minus_margin():
    spec = synthetic_spec(3, limit=1.0)
    filt = CommandFilter(spec, joint_limit_margin=0.1)
    np.testing.assert_allclose(filt.apply(np.array([2.0, -5.0, 0.3])), [0.9, -0.9, 0.3])
    assert filt.clamped == 1


def test_filter_limits_change_per_step_from_the_measured_position():
    filt = CommandFilter(synthetic_spec(2), max_command_delta=0.1)
    filt.reset(np.array([0.5, -0.5]))
    np.testing.assert_allclose(filt.apply(np.array([1.0, -0.52])), [0.6, -0.52])
    np.testing.assert_allclose(filt.apply(np.array([1.0, 1.0])), [0.7, -0.42])
    assert filt.rate_limited == 2


@pytest.mark.parametrize('bad', [[np.nan, 0.0], [0.0, np.inf], [0.0, 0.0, 0.0]])
def test_filter_refuses_nonfinite_or_missized_commands(bad):
    filt = CommandFilter(synthetic_spec(2))
    assert filt.apply(np.array(bad)) is None


@pytest.mark.parametrize('kwargs, message', [
    ({'joint_limit_margin': 2.0}, r"larger than half the command range of joint\(s\) \['joint_0'"),
    ({'joint_limit_margin': -0.1}, 'joint_limit_margin must be >= 0'),
    ({'max_command_delta': float('nan')}, 'max_command_delta must be >= 0'),
])
def test_filter_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CommandFilter(synthetic_spec(2, limit=1.5), **kwargs)


def test_non_position_interface_restarts_from_zero():
    filt = CommandFilter(REACH_SPEC, max_command_delta=0.2)
    filt.reset(np.array([0.9, 0.9, 0.9]))
    np.testing.assert_allclose(filt.apply(np.ones(3)), [0.2, 0.2, 0.2])


# --- PolicyController ------------------------------------------------------------------------
def test_commands_follow_the_policy_and_feed_back_the_last_action(artifact):
    ctrl = _armed(artifact)
    rng = np.random.default_rng(0)
    last = np.zeros(N)
    for k in range(1, 4):
        pos, vel = rng.uniform(-1, 1, N), rng.uniform(-1, 1, N)
        assert ctrl.set_state(pos, vel, stamp=0.1 * k, now=float(k)) == 'fresh'
        command = ctrl.step(now=float(k))
        expected = _expected(artifact, pos, vel, last)
        np.testing.assert_allclose(command, expected, atol=1e-6)
        last = artifact.spec.command_to_action(expected)
    assert ctrl.counts['commands'] == 3 and ctrl.fault is None


@pytest.mark.parametrize('margin', [0.0, 1.4])   # 1.4: most commands are clamped
def test_last_action_is_what_the_sent_command_maps_back_to(artifact, margin):
    ctrl = _armed(artifact, joint_limit_margin=margin)
    rng = np.random.default_rng(1)
    clamped = 0
    for k in range(1, 6):
        ctrl.set_state(rng.uniform(-1, 1, N), rng.uniform(-1, 1, N), stamp=0.1 * k, now=float(k))
        command = ctrl.step(now=float(k))
        clamped += ctrl.filter.changed
        np.testing.assert_allclose(ctrl.last_action, artifact.spec.command_to_action(command),
                                   rtol=0, atol=1e-12)
    assert (clamped > 0) == (margin > 0)


def test_disarmed_or_without_policy_or_state_nothing_is_commanded(artifact):
    idle = PolicyController(ControllerConfig(trust_artifact_limits=True), None)
    idle.arm(True)
    idle.set_state(np.zeros(N), np.zeros(N), 1.0, now=1.0)
    assert idle.step(now=1.0) is None and 'no policy' in idle.fault
    ctrl = PolicyController(ControllerConfig(), artifact)
    ctrl.set_state(np.zeros(N), np.zeros(N), 1.0, now=1.0)
    assert ctrl.step(now=1.0) is None  # starts disarmed
    fresh = _armed(artifact)
    assert fresh.step(now=1.0) is None and 'waiting for joint_states' in fresh.fault


def test_older_stamps_are_rejected_and_repeats_answered_from_cache(artifact):
    ctrl = _armed(artifact)
    ctrl.set_state(np.zeros(N), np.zeros(N), stamp=2.0, now=1.0)
    first = ctrl.step(now=1.0)
    assert ctrl.set_state(np.ones(N), np.ones(N), stamp=1.0, now=1.1) == 'old'
    assert ctrl.counts['non_monotonic'] == 1
    assert ctrl.set_state(np.zeros(N), np.zeros(N), stamp=2.0, now=1.2) == 'repeat'
    np.testing.assert_array_equal(ctrl.step(now=1.2), first)
    assert ctrl.counts['commands'] == 1 and ctrl.counts['repeated_states'] == 1


def test_unused_states_count_as_dropped(artifact):
    ctrl = _armed(artifact)
    for k in range(3):
        ctrl.set_state(np.zeros(N), np.zeros(N), stamp=1.0 + k, now=1.0)
    ctrl.step(now=1.0)
    assert ctrl.counts['dropped_inputs'] == 2


def test_watchdog_hold_repeats_the_last_safe_position(artifact):
    ctrl = _armed(artifact, state_timeout=0.1, timeout_action='hold')
    ctrl.set_state(np.zeros(N), np.zeros(N), 1.0, now=10.0)
    last = ctrl.step(now=10.0)
    np.testing.assert_array_equal(ctrl.step(now=10.2), last)
    np.testing.assert_array_equal(ctrl.step(now=10.3), last)
    assert ctrl.counts['timeouts'] == 1 and 'no fresh joint_states' in ctrl.fault
    assert ctrl.counts['commands'] == 1


def test_watchdog_stop_holds_the_position_once_then_sends_nothing(artifact):
    # Issue 20: the safe command goes out on a timeout for every interface (position: hold).
    ctrl = _armed(artifact, state_timeout=0.1, timeout_action='stop')
    ctrl.set_state(np.zeros(N), np.zeros(N), 1.0, now=10.0)
    last = ctrl.step(now=10.05)
    assert last is not None
    np.testing.assert_array_equal(ctrl.step(now=10.2), last)
    assert ctrl.step(now=10.3) is None
    ctrl.set_state(np.zeros(N), np.zeros(N), 2.0, now=10.4)
    assert ctrl.step(now=10.4) is not None and ctrl.fault is None


def test_watchdog_stop_zeroes_a_velocity_like_interface_once(tmp_path):
    class Push(torch.nn.Module):
        def forward(self, obs: torch.Tensor) -> torch.Tensor:
            return torch.ones(obs.shape[0], 3)
    reach = load_artifact(export_artifact(Push(), REACH_SPEC, tmp_path / 'p', algorithm='x'),
                          allow_torchscript=True)   # torch.ones(batch, 3): not a plain MLP
    ctrl = _armed(reach, state_timeout=0.1, timeout_action='stop', default_goal=(0.0, 0.0, 0.0))
    ctrl.set_state(np.zeros(3), np.zeros(3), 1.0, now=10.0)
    np.testing.assert_array_equal(ctrl.step(now=10.0), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(ctrl.step(now=10.2), [0.0, 0.0, 0.0])
    assert ctrl.step(now=10.3) is None


def test_missing_goal_is_a_fault_and_the_safe_command(tmp_path):
    reach = load_artifact(export_artifact(torch.nn.Linear(12, 3), REACH_SPEC, tmp_path / 'p',
                                          algorithm='x'))
    ctrl = _armed(reach)
    ctrl.set_state(np.zeros(3), np.zeros(3), 1.0, now=1.0)
    # Issue 20: no command can be built -> the interface's safe command (zero acceleration).
    np.testing.assert_array_equal(ctrl.step(now=1.0), np.zeros(3))
    assert 'goal_pose' in ctrl.fault
    ctrl.inputs.goal = np.array([0.5, 0.5, 0.5])
    assert ctrl.step(now=1.0) is not None


def test_nonfinite_observation_or_action_is_never_commanded(artifact):
    ctrl = _armed(artifact)
    ctrl.set_state(np.zeros(N), np.zeros(N), 1.0, now=1.0)
    good = ctrl.step(now=1.0)
    ctrl.set_state(np.full(N, 1e39), np.zeros(N), 2.0, now=1.1)  # overflows float32 -> inf
    np.testing.assert_array_equal(ctrl.step(now=1.1), good)     # the safe command: hold
    assert 'NaN/Inf' in ctrl.fault
    ctrl._install(artifact)
    ctrl.artifact = type('NanPolicy', (), {'spec': artifact.spec,
                                           'act': lambda self, o: np.full(N, np.nan)})()
    ctrl.set_state(np.zeros(N), np.zeros(N), 3.0, now=1.2)
    np.testing.assert_array_equal(ctrl.step(now=1.2), good)  # hold the last safe command
    assert ctrl.counts['nonfinite_actions'] == 1


def test_new_policy_is_swapped_in_at_the_next_step(artifact, artifact_b):
    ctrl = _armed(artifact)
    ctrl.set_state(np.zeros(N), np.zeros(N), 1.0, now=1.0)
    ctrl.step(now=1.0)
    ctrl.offer(artifact_b)
    assert ctrl.artifact is artifact
    ctrl.set_state(np.full(N, 0.1), np.zeros(N), 2.0, now=1.1)
    command = ctrl.step(now=1.1)
    assert ctrl.artifact is artifact_b and ctrl.counts['reloads'] == 1
    last = artifact.spec.command_to_action(_expected(artifact, np.zeros(N), np.zeros(N),
                                                     np.zeros(N)))
    np.testing.assert_allclose(command, _expected(artifact_b, np.full(N, 0.1), np.zeros(N),
                                                  last), atol=1e-6)


def test_policy_for_other_joints_is_refused(artifact, tmp_path):
    other = load_artifact(make_synthetic_artifact(tmp_path / 'o', n_joints=N + 1, hidden=(8,)))
    ctrl = _armed(artifact)
    with pytest.raises(ValueError, match='has joint_names'):
        ctrl.offer(other)


@pytest.mark.parametrize('kwargs, message', [
    ({'timeout_action': 'coast'}, 'timeout_action must be one of'),
    ({'state_timeout': 0.0}, 'state_timeout must be > 0'),
    ({'default_goal': (1.0,)}, 'default_goal must be empty or 2-3'),
])
def test_bad_config_is_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ControllerConfig(**kwargs)


def test_projected_gravity():
    np.testing.assert_allclose(projected_gravity(np.array([0, 0, 0, 1.0])), [0, 0, -1],
                               atol=1e-12)
    roll90 = np.array([np.sin(np.pi / 4), 0, 0, np.cos(np.pi / 4)])
    np.testing.assert_allclose(projected_gravity(roll90), [0, -1, 0], atol=1e-12)


def test_explore_uses_the_stochastic_policy(tmp_path):
    class Noisy(torch.nn.Module):
        def forward(self, obs: torch.Tensor) -> torch.Tensor:
            return torch.tanh(obs[:, :3])

        @torch.jit.export
        def explore(self, obs: torch.Tensor) -> torch.Tensor:
            return torch.tanh(obs[:, :3] + torch.randn(obs.shape[0], 3))

    policy = load_artifact(export_artifact(Noisy(), REACH_SPEC, tmp_path / 'p', algorithm='ppo'),
                           allow_torchscript=True)   # explore is TorchScript
    commands = []
    for explore in (False, False, True, True):
        ctrl = _armed(policy, explore=explore, default_goal=(0.1, 0.2, 0.3))
        ctrl.set_state(np.zeros(3), np.zeros(3), 1.0, now=1.0)
        commands.append(ctrl.step(now=1.0))
    np.testing.assert_array_equal(commands[0], commands[1])
    assert not np.allclose(commands[2], commands[3])


# --- episode boundaries ----------------------------------------------------------------------
def _run_episode(ctrl, rng, start_stamp):
    for k in range(3):
        ctrl.set_state(rng.uniform(-0.5, 0.5, N), rng.uniform(-1, 1, N),
                       stamp=start_stamp + 0.1 * k, now=start_stamp + 0.1 * k)
        assert ctrl.step(now=start_stamp + 0.1 * k) is not None
    assert np.any(ctrl.last_action != 0.0)


@pytest.mark.parametrize('setter', ['set_goal', 'set_cmd_vel'])
def test_a_changed_goal_starts_an_episode_with_zero_last_action_and_rate_limit(artifact, setter):
    ctrl = _armed(artifact, max_command_delta=0.05)
    rng = np.random.default_rng(1)
    getattr(ctrl, setter)(np.array([0.5, 0.0, 0.1]))       # the first goal: no boundary
    _run_episode(ctrl, rng, 1.0)
    getattr(ctrl, setter)(np.array([0.5, 0.0, 0.1]))       # republished: no boundary
    assert ctrl.counts['episodes'] == 0
    getattr(ctrl, setter)(np.array([-0.3, 0.2, 0.0]))      # the next episode's goal
    assert ctrl.counts['episodes'] == 1
    before = ctrl.last_action.copy()
    position, velocity = np.full(N, 1.0), np.zeros(N)       # the simulator's new initial pose
    ctrl.set_state(position, velocity, stamp=2.0, now=2.0)
    command = ctrl.step(now=2.0)
    free = _expected(artifact, position, velocity, np.zeros(N))
    # The rate limit restarts from the new pose, not from the previous episode's commands.
    np.testing.assert_allclose(command, np.clip(free, position - 0.05, position + 0.05),
                               atol=1e-6)
    assert np.all(np.abs(command - position) <= 0.05 + 1e-9)
    # ... and the previous episode's last action would have given another command.
    assert not np.allclose(_expected(artifact, position, velocity, before), free)


def test_reset_on_new_goal_false_keeps_the_last_action(artifact):
    ctrl = _armed(artifact, reset_on_new_goal=False)
    rng = np.random.default_rng(2)
    ctrl.set_cmd_vel(np.array([0.5, 0.0, 0.1]))
    _run_episode(ctrl, rng, 1.0)
    ctrl.set_cmd_vel(np.array([-0.3, 0.2, 0.0]))
    last = ctrl.last_action.copy()
    position, velocity = rng.uniform(-0.5, 0.5, N), np.zeros(N)
    ctrl.set_state(position, velocity, stamp=2.0, now=2.0)
    np.testing.assert_allclose(ctrl.step(now=2.0), _expected(artifact, position, velocity, last),
                               atol=1e-6)
    assert ctrl.counts['episodes'] == 0


# --- issue 20: the robot's limits, fail safe, time -------------------------------------------
class FakeArtifact:
    """What the controller uses of a PolicyArtifact, with a policy given as a function."""

    def __init__(self, spec, policy, name='fake'):
        self.spec, self._policy, self.path, self.version = spec, policy, name, name
        self.backend, self.algorithm = 'numpy', 'test'

    def act(self, obs):
        return self._policy(obs)

    explore = act


def _spec(interface='position', inputs=(), limit=1.0, n=N, command_input='none'):
    from robotrl_ros.tasks.spec import ObsTerm, TaskSpec
    terms = [ObsTerm('joint_pos', n), ObsTerm('joint_vel', n)]
    terms += {'cmd_vel': [ObsTerm('cmd_vel', 3)], 'goal_pose': [ObsTerm('goal_position', 3)],
              'imu': [ObsTerm('projected_gravity', 3)],
              'base_twist': [ObsTerm('base_lin_vel', 3)]}.get(command_input, [])
    for source in inputs:
        terms += {'imu': [ObsTerm('projected_gravity', 3)],
                  'base_twist': [ObsTerm('base_lin_vel', 3)]}[source]
    return TaskSpec(name='t', joint_names=tuple(f'joint_{i}' for i in range(n)),
                    observation=tuple(terms), action_scale=(limit,) * n,
                    action_offset=(0.0,) * n, command_lower=(-limit,) * n,
                    command_upper=(limit,) * n, velocity_limits=(10.0,) * n,
                    control_period=0.02, command_interface=interface,
                    command_input=command_input)


def _urdf_limits(n=N, lower=-0.5, upper=0.8, velocity=2.0, effort=3.0):
    joints = ''.join(f'<joint name="joint_{i}" type="revolute"><parent link="l{i}"/>'
                     f'<child link="l{i + 1}"/><limit lower="{lower}" upper="{upper}" '
                     f'velocity="{velocity}" effort="{effort}"/></joint>' for i in range(n))
    return limits_from_urdf(f'<robot name="r">{joints}</robot>')


def _ones(obs):
    return np.ones(N)


def test_without_robot_limits_arming_is_refused_unless_trusted(artifact):
    ctrl = PolicyController(ControllerConfig(), artifact)
    assert 'no robot limits' in ctrl.arm(True) and not ctrl.armed
    ctrl.set_state(np.zeros(N), np.zeros(N), 1.0, now=1.0)
    assert ctrl.step(now=1.0) is None
    assert PolicyController(ControllerConfig(), artifact, _urdf_limits()).arm(True) is None
    assert PolicyController(ControllerConfig(trust_artifact_limits=True), artifact).arm(True) \
        is None


def test_limits_that_leave_a_policy_joint_unbounded_refuse_arming(artifact):
    ctrl = PolicyController(ControllerConfig(), artifact, _urdf_limits(n=N - 1))
    refusal = ctrl.arm(True)
    assert "do not bound the position commands of joint(s) ['joint_3']" in refusal
    assert not ctrl.armed
    # armed before the (first) policy came: installing it disarms with the same reason
    ctrl = PolicyController(ControllerConfig(), None, _urdf_limits(n=N - 1))
    assert ctrl.arm(True) is None
    ctrl.offer(artifact)
    ctrl.apply_pending()
    assert not ctrl.armed and "joint(s) ['joint_3']" in ctrl.fault


def test_limits_that_arrive_later_allow_arming_and_clamp_at_once(artifact):
    """Arming once they arrived is the node's (test_policy_node_safety.py): none by itself."""
    ctrl = PolicyController(ControllerConfig(), artifact)
    ctrl.limits_awaited = 'waiting for the robot_description topic'
    refusal = ctrl.arm(True)
    assert 'no robot limits (waiting for the robot_description topic; or set' in refusal
    ctrl.set_node_limits(_urdf_limits())
    assert not ctrl.armed and ctrl.counts['limits_updates'] == 1
    assert ctrl.arm(True) is None and ctrl.armed
    ctrl.set_state(np.full(N, 5.0), np.zeros(N), 1.0, now=1.0)
    assert np.all(ctrl.step(now=1.0) <= 0.8)
    ctrl.set_node_limits(_urdf_limits(upper=0.2))   # a changed description: tighter at once
    assert np.all(ctrl.safe_command() <= 0.2)       # the held position too
    ctrl.set_state(np.full(N, 5.0), np.zeros(N), 1.01, now=1.01)
    assert np.all(ctrl.step(now=1.01) <= 0.2)
    with pytest.raises(ValueError, match='do not overlap'):
        ctrl.set_node_limits(_urdf_limits(lower=3.0, upper=4.0))   # the artifact's: ±1.5
    np.testing.assert_array_equal(ctrl.filter.upper, 0.2)          # unchanged


def test_an_unusable_description_refuses_arming_even_when_trusting(artifact):
    ctrl = _armed(artifact)
    ctrl.limits_refusal = 'robot_description topic: unusable description'
    assert ctrl.arm(True) == 'robot_description topic: unusable description'


def test_the_velocity_reload_with_limits_of_100_is_refused(artifact, tmp_path):
    """Issue 20 finding 3: same joints, ±100, velocity: was accepted; -30.6 on a position topic."""
    ctrl = _armed(artifact, node_limits=_urdf_limits())
    ctrl.set_state(np.zeros(N), np.zeros(N), 1.0, now=1.0)
    ctrl.step(now=1.0)
    wild = load_artifact(make_synthetic_artifact(tmp_path / 'wild', n_joints=N, hidden=(8,),
                                                 limit=100.0, command_interface='velocity'))
    with pytest.raises(ValueError, match="command_interface 'velocity', the running one "
                                         "'position': refused"):
        ctrl.offer(wild)
    wide = load_artifact(make_synthetic_artifact(tmp_path / 'wide', n_joints=N, hidden=(8,),
                                                 limit=100.0))
    with pytest.raises(ValueError, match=r"wider than the robot's for joint_0 \[-100, 100\] > "
                                         r'robot \[-0.5, 0.8\]'):
        ctrl.offer(wide)
    other_input = FakeArtifact(_spec(command_input='cmd_vel', limit=0.5), _ones)
    with pytest.raises(ValueError, match="command_input 'cmd_vel', the running one 'none'"):
        ctrl.offer(other_input)
    ctrl.set_state(np.zeros(N), np.zeros(N), 2.0, now=1.1)
    assert ctrl.step(now=1.1) is not None and ctrl.artifact is artifact   # the old one runs
    narrow = FakeArtifact(_spec(limit=0.5), _ones)
    ctrl.offer(narrow)                                                 # within the robot's
    ctrl.set_state(np.zeros(N), np.zeros(N), 3.0, now=1.2)
    ctrl.step(now=1.2)
    assert ctrl.artifact is narrow


def test_the_first_artifact_is_clamped_to_the_robot_limits_and_says_so(artifact):
    ctrl = _armed(artifact, node_limits=_urdf_limits())
    assert "clamped to the robot's for joint_0 [-1.5, 1.5] > robot [-0.5, 0.8]" in \
        ctrl.status_fields()['limits_note']
    np.testing.assert_array_equal(ctrl.filter.lower, -0.5)
    np.testing.assert_array_equal(ctrl.filter.upper, 0.8)


@pytest.mark.parametrize('interface', ['position', 'velocity', 'effort'])
def test_property_every_command_stays_inside_the_urdf_limits(interface):
    """Random artifacts (limits, scales, wild outputs) x random states: never outside."""
    rng = np.random.default_rng({'position': 0, 'velocity': 1, 'effort': 2}[interface])
    robot = _urdf_limits(lower=-0.5, upper=0.8, velocity=2.0, effort=3.0)
    low, high = robot.command_bounds([f'joint_{i}' for i in range(N)], interface)
    for trial in range(20):
        limit = float(rng.choice([0.3, 1.0, 50.0, 1e6]))
        outputs = [lambda o: rng.uniform(-1, 1, N), lambda o: rng.uniform(-1e9, 1e9, N),
                   lambda o: np.where(rng.random(N) < 0.3, np.nan, 1.0),
                   lambda o: np.full(N, np.inf), lambda o: rng.uniform(-1, 1, 1)]
        fake = FakeArtifact(_spec(interface, limit=limit), outputs[trial % len(outputs)])
        ctrl = _armed(fake, node_limits=robot, max_command_rate=float(rng.choice([0, 5.0])))
        previous, now = None, 10.0
        for k in range(60):
            now += float(rng.uniform(0.0005, 0.05))
            position = rng.choice([rng.uniform(-1, 1, N), rng.uniform(-1e12, 1e12, N)])
            ctrl.set_state(position, rng.uniform(-1e3, 1e3, N), stamp=now, now=now)
            command = ctrl.step(now=now)
            if command is None:
                continue
            assert command.shape == (N,) and np.all(np.isfinite(command))
            assert np.all(command >= low) and np.all(command <= high), (trial, k, command)
            if interface == 'position' and previous is not None:
                # a target never moves faster than the joint's velocity limit (2 rad/s)
                assert np.all(np.abs(command - previous[1]) <= 2.0 * (now - previous[0])
                              + 1e-9), (trial, k)
            previous = (now, command)


class JitLikeError(Exception):
    """Not a RuntimeError, like torch.jit.Error."""


@pytest.mark.parametrize('interface, safe', [('position', 'hold'), ('velocity', 'zeros'),
                                             ('effort', 'zeros')])
def test_a_raising_or_wrong_shaped_network_gives_the_safe_command(interface, safe):
    calls = []

    def policy(obs):
        calls.append(1)
        if len(calls) == 2:
            raise JitLikeError('The following operation failed in the TorchScript interpreter')
        return np.full(N, 0.5) if len(calls) != 3 else np.full((1, 1), 0.5)   # (1,1): finding 8

    ctrl = _armed(FakeArtifact(_spec(interface), policy), node_limits=_urdf_limits())
    ctrl.set_state(np.zeros(N), np.zeros(N), 1.0, now=1.0)
    good = ctrl.step(now=1.0)
    expected = good if safe == 'hold' else np.zeros(N)
    ctrl.set_state(np.zeros(N), np.zeros(N), 2.0, now=1.02)
    np.testing.assert_array_equal(ctrl.step(now=1.02), expected)
    assert 'policy raised JitLikeError' in ctrl.fault
    ctrl.set_state(np.zeros(N), np.zeros(N), 3.0, now=1.04)
    np.testing.assert_array_equal(ctrl.step(now=1.04), expected)
    assert 'policy output has shape (1, 1), expected (4,)' in ctrl.fault
    assert ctrl.counts['policy_errors'] == 2
    ctrl.set_state(np.zeros(N), np.zeros(N), 4.0, now=1.06)
    assert ctrl.step(now=1.06) is not None and ctrl.fault is None


@pytest.mark.parametrize('source', ['cmd_vel', 'goal_pose', 'imu', 'base_twist'])
@pytest.mark.parametrize('interface', ['position', 'velocity', 'effort'])
def test_a_stale_input_gives_the_safe_command_until_it_is_fresh(source, interface):
    timed = source in ('cmd_vel', 'goal_pose')
    spec = _spec(interface, inputs=() if timed else (source,),
                 command_input=source if timed else 'none')
    ctrl = _armed(FakeArtifact(spec, lambda o: np.full(N, 0.3)), node_limits=_urdf_limits(),
                  input_timeout=0.1, input_timeouts={'goal_pose': 0.2})
    timeout = 0.2 if source == 'goal_pose' else 0.1

    def give(now):
        if source == 'cmd_vel':
            ctrl.set_cmd_vel(np.zeros(3), now)
        elif source == 'goal_pose':
            ctrl.set_goal(np.zeros(3), now)
        else:
            values = {'imu': {'projected_gravity': np.array([0, 0, -1.0])},
                      'base_twist': {'base_lin_vel': np.zeros(3)}}[source]
            ctrl.set_base_inputs(source, values, now)

    give(1.0)
    ctrl.set_state(np.zeros(N), np.zeros(N), 1.0, now=1.0)
    command = ctrl.step(now=1.0)
    assert command is not None and ctrl.fault is None
    stamp, last_good = 1.0, command
    for now in np.arange(1.02, 1.0 + timeout + 0.1, 0.02):  # states keep coming, input does not
        stamp += 0.02
        ctrl.set_state(np.zeros(N), np.zeros(N), stamp, now=now)
        command = ctrl.step(now=now)
        if now - 1.0 > timeout + 1e-9:
            safe = last_good if interface == 'position' else np.zeros(N)
            np.testing.assert_array_equal(command, safe)
            assert f'no fresh {source}' in ctrl.fault
        else:
            last_good = command
    assert ctrl.counts['input_timeouts'] == 1
    give(now + 0.01)
    ctrl.set_state(np.zeros(N), np.zeros(N), stamp + 0.02, now=now + 0.02)
    assert ctrl.step(now=now + 0.02) is not None and ctrl.fault is None


def test_disarm_and_timeouts_give_the_safe_command_of_the_interface():
    for interface in ('velocity', 'effort'):
        ctrl = _armed(FakeArtifact(_spec(interface), lambda o: np.full(N, 0.9)),
                      node_limits=_urdf_limits(), state_timeout=0.1)
        ctrl.set_state(np.zeros(N), np.zeros(N), 1.0, now=1.0)
        assert np.all(ctrl.step(now=1.0) > 0)
        np.testing.assert_array_equal(ctrl.step(now=1.2), np.zeros(N))   # stale joint_states
        ctrl.arm(False)
        np.testing.assert_array_equal(ctrl.safe_command(), np.zeros(N))


def test_one_stamp_of_2e9_does_not_lock_the_node_out(artifact):
    """Issue 20 finding 5: after one state stamped 2e9 s every later one was 'older'."""
    ctrl = _armed(artifact, max_stamp_jump=1.0, state_timeout=0.1)
    ctrl.set_state(np.zeros(N), np.zeros(N), 10.0, now=1.0)
    assert ctrl.step(now=1.0) is not None
    assert ctrl.set_state(np.zeros(N), np.zeros(N), 2e9, now=1.01) == 'jump'
    assert ctrl.set_state(np.zeros(N), np.zeros(N), 10.02, now=1.02) == 'fresh'  # at once
    assert ctrl.counts['stamp_jumps'] == 1
    # Without the jump check, the bad stamp is accepted: sane states resume within state_timeout.
    ctrl = _armed(artifact, max_stamp_jump=0.0, state_timeout=0.1)
    ctrl.set_state(np.zeros(N), np.zeros(N), 10.0, now=1.0)
    assert ctrl.set_state(np.zeros(N), np.zeros(N), 2e9, now=1.01) == 'fresh'
    now, stamp, verdicts = 1.01, 10.0, []
    while now < 1.2:
        now, stamp = now + 0.02, stamp + 0.02
        verdicts.append((now, ctrl.set_state(np.zeros(N), np.zeros(N), stamp, now=now)))
    resumed = next(t for t, v in verdicts if v == 'fresh')
    assert resumed - 1.01 <= 0.1 + 0.02 + 1e-9 and ctrl.counts['stamp_resets'] == 1
    assert all(v == 'fresh' for t, v in verdicts if t >= resumed)
    assert ctrl.step(now=now) is not None and ctrl.fault is None


# --- observation history -----------------------------------------------------------------------
def test_history_terms_see_the_last_actions_and_start_over_each_episode(tmp_path):
    spec = synthetic_spec(N)
    spec = dataclasses.replace(spec, observation=(*spec.observation[:2],
                                                  ObsTerm('last_action', N, history=3)))
    torch.manual_seed(0)
    path = export_artifact(MLPPolicy(spec.obs_dim, N, (16,)), spec, tmp_path / 'p',
                           algorithm='synthetic')
    history_artifact = load_artifact(path)
    assert history_artifact.spec.observation[2].history == 3
    assert yaml.safe_load((path / 'policy.yaml').read_text())['observation'][2] == {
        'name': 'last_action', 'size': N, 'scale': 1.0, 'history': 3, 'source': 'policy'}
    ctrl = _armed(history_artifact)
    rng = np.random.default_rng(2)
    sent = [np.zeros(N)] * 3                              # a new episode: nothing older
    for k in range(6):
        if k == 4:
            ctrl.new_episode()
            sent = [np.zeros(N)] * 3
        position, velocity = rng.uniform(-0.3, 0.3, N), rng.uniform(-1, 1, N)
        ctrl.set_state(position, velocity, stamp=0.1 * k, now=0.1 * k)
        frame = build_observation(spec, RobotState(position, velocity, last_action=sent[0]))
        obs = np.concatenate([frame[:2 * N], *sent[:3]])
        command = ctrl.step(now=0.1 * k)
        np.testing.assert_allclose(command, spec.action_to_command(history_artifact.act(obs)),
                                   atol=1e-5)
        sent = [ctrl.last_action.copy(), *sent[:2]]
