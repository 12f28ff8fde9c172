# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A fleet trainer_node on an in-process graph: two namespaced robots, one leaves and rejoins."""

import json
import time

import numpy as np
import pytest
import rclpy
from geometry_msgs.msg import PoseStamped
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray, String

from robotrl_ros.nodes.trainer_node import TrainerNode
from robotrl_ros.ros.conversions import goal_to_pose, make_joint_state
from robotrl_ros.ros.qos import COMMAND_QOS, SENSOR_QOS
from robotrl_ros.ros.trainer_sources import source_topic
from robotrl_ros.tasks.registry import make_env

COMMANDS = 'forward_position_controller/commands'


class NamespacedRobot:
    """A reach robot and its explorer in namespace ``ns``: states, goal, random commands."""

    def __init__(self, ns: str, seed: int) -> None:
        self.node = rclpy.create_node('fake_robot', namespace=ns)
        self.env = make_env('reach')
        self.rng = np.random.default_rng(seed)
        self.js = self.node.create_publisher(JointState, 'joint_states', SENSOR_QOS)
        self.goal = self.node.create_publisher(PoseStamped, 'goal_pose', COMMAND_QOS)
        self.cmd = self.node.create_publisher(Float64MultiArray, COMMANDS, COMMAND_QOS)
        self.restart()

    def restart(self) -> None:
        """A (re)started simulator: stamps from the start, a new episode and goal."""
        self.stamp = 0.0
        self.env.reset(seed=int(self.rng.integers(1000)))
        self.goal.publish(goal_to_pose(self.env.goal))
        self._publish_state()

    def _publish_state(self) -> None:
        self.stamp += 0.1
        names, pos, vel, _ = self.env.joint_state()
        self.js.publish(make_joint_state(names, pos, vel, stamp=self.stamp))

    def step(self) -> None:
        command = self.rng.uniform(-1, 1, 3)
        self.cmd.publish(Float64MultiArray(data=command.tolist()))
        self.env.step_command(command)
        self._publish_state()


def test_source_topic_joins_namespace_and_name():
    assert source_topic('', 'joint_states') == 'joint_states'
    assert source_topic('robot1', 'sim_bridge/reset') == 'robot1/sim_bridge/reset'
    assert source_topic('/fleet/robot2/', 'imu') == '/fleet/robot2/imu'


def test_fleet_trainer_learns_from_two_robots_and_a_silent_one_leaves_and_rejoins(ros,
                                                                                   tmp_path):
    trainer = TrainerNode(parameter_overrides=[
        Parameter('output_dir', value=str(tmp_path / 'run')), Parameter('algo', value='sac'),
        Parameter('reset_service', value=''), Parameter('status_period', value=0.1),
        Parameter('robot_namespaces', value=['robot1', 'robot2']),
        Parameter('source_timeout', value=1.0)])
    robots = {ns: NamespacedRobot(ns, seed) for seed, ns in enumerate(('robot1', 'robot2'))}
    observer = rclpy.create_node('observer')
    statuses = []
    observer.create_subscription(String, 'trainer_node/status',
                                 lambda m: statuses.append(json.loads(m.data)), 10)
    executor = SingleThreadedExecutor()
    for node in (trainer, observer, *(r.node for r in robots.values())):
        executor.add_node(node)

    def spin_until(condition, what):
        deadline = time.monotonic() + 120   # ends as soon as it holds; catches hangs
        while not condition():
            executor.spin_once(timeout_sec=0.02)
            assert time.monotonic() < deadline, f'{what}; last status: ' \
                f'{statuses[-1]["sources"] if statuses else None}'

    def source(ns):
        return statuses[-1]['sources'][ns] if statuses else {}

    def run(steps, names):
        for _ in range(steps):
            for ns in names:
                robots[ns].step()
            for _ in range(4):
                executor.spin_once(timeout_sec=0.002)

    try:
        spin_until(lambda: all(r.js.get_subscription_count() and r.cmd.get_subscription_count()
                               for r in robots.values()), 'the trainer never subscribed')
        for robot in robots.values():
            robot.restart()
        run(60, ('robot1', 'robot2'))
        spin_until(lambda: source('robot1').get('accepted', 0) >= 20
                   and source('robot2').get('accepted', 0) >= 20, 'both robots contribute')
        # robot2 goes silent: it is dropped while robot1 goes on.
        def robot2_left():
            run(1, ('robot1',))
            return source('robot2').get('active') is False
        spin_until(robot2_left, 'robot2 never left')
        left_at = source('robot2')['accepted']
        # robot2's simulator restarts (stamps from the start): it rejoins and contributes.
        robots['robot2'].restart()
        run(40, ('robot1', 'robot2'))
        spin_until(lambda: source('robot2').get('accepted', 0) >= left_at + 20,
                   'robot2 never rejoined')
    finally:
        executor.shutdown()
        trainer.close()
        for node in (trainer, observer, *(r.node for r in robots.values())):
            node.destroy_node()
    final = statuses[-1]['sources']
    assert final['robot2']['joins'] == 2 and final['robot2']['active']
    assert final['robot1']['joins'] == 1 and final['robot1']['accepted'] > 60
    # Neither robot's states were paired with the other's: no gaps or stale stamps from mixing.
    for entry in final.values():
        assert 'dropped_out_of_order_state' not in entry['drops'], entry


def test_bad_robot_namespace_is_named(ros, tmp_path):
    with pytest.raises(ValueError, match="robot_namespaces: '2robot' is not a ROS namespace"):
        TrainerNode(parameter_overrides=[
            Parameter('output_dir', value=str(tmp_path / 'run')),
            Parameter('robot_namespaces', value=['robot1', '2robot'])])


class _UnansweredService:
    """A service client double: requests recorded, answered (or not) by the test."""

    def __init__(self):
        self.requests, self.futures, self.removed = [], [], []

    def service_is_ready(self):
        return True

    def call_async(self, request):
        from rclpy.task import Future
        self.requests.append(getattr(request, 'data', request))
        self.futures.append(Future())
        return self.futures[-1]

    def remove_pending_request(self, future):
        self.removed.append(future)


def _answer(future, success=True):
    from std_srvs.srv import SetBool
    future.set_result(SetBool.Response(success=success))


def test_an_unanswered_pause_request_is_sent_again_and_a_late_answer_ignored(monkeypatch):
    """A lost answer must not leave the robot disarmed for good: the request is sent again.

    Seen in CI: the service applied a disarm and lost its response (it had not discovered the
    trainer's new client yet), so the trainer never re-armed that robot.
    """
    from robotrl_ros.ros import pending_request, trainer_sources
    now = [100.0]
    monkeypatch.setattr(pending_request.time, 'monotonic', lambda: now[0])
    source = trainer_sources.SourceStreams.__new__(trainer_sources.SourceStreams)
    source.pause_client = service = _UnansweredService()
    source.paused, source.pauses = False, 0
    source.session, source.ns = _PauseSession(), 'robot1'
    source._pause_request = pending_request.PendingRequest(trainer_sources.PAUSE_RETRY)
    source.pause(True)                      # pause: SetBool(false)
    source.pause(True)                      # in flight: not sent twice
    assert service.requests == [False]
    now[0] += trainer_sources.PAUSE_RETRY + 0.5
    source.pause(True)                      # unanswered too long: abandoned, sent again
    assert service.requests == [False, False] and service.removed == [service.futures[0]]
    assert source.session.calls == []      # not before the simulator confirmed the pause
    _answer(service.futures[1])
    assert source.paused is True and source.pauses == 1
    assert source.session.calls == [('robot1', True)]   # silent by request: does not expire
    _answer(service.futures[0])             # the lost one, answered late: ignored
    assert source.paused is True and source.pauses == 1
    source.pause(False)                     # resume: SetBool(true)
    assert source.session.calls[-1] == ('robot1', False)   # silence counts again from now
    now[0] += trainer_sources.PAUSE_RETRY + 0.5
    source.pause(False)                     # its answer was lost too: asked again
    assert service.requests == [False, False, True, True] and source.paused is None
    _answer(service.futures[3])
    assert source.paused is False


def test_an_on_policy_source_is_awaited_per_update_for_at_most_policy_wait():
    from robotrl_ros.ros import trainer_sources
    source = trainer_sources.SourceStreams.__new__(trainer_sources.SourceStreams)
    source.session, source.ns, source.node = _StaleSession(), 'robot1', _WarnNode()
    source.policy_waits = source.policy_wait_timeouts = 0
    source._awaited_version, source._awaited_since, source._wait_abandoned = -1, 0.0, False
    assert not source.awaits_policy(0.0)            # up to date: nothing awaited
    source.session.stale = 40                       # update 40 published, robot1 runs older
    assert source.awaits_policy(1.0) and source.awaits_policy(1.0 + trainer_sources.POLICY_WAIT)
    assert not source.awaits_policy(1.5 + trainer_sources.POLICY_WAIT)   # never reported it
    assert not source.awaits_policy(9.0 + trainer_sources.POLICY_WAIT)
    assert (source.policy_waits, source.policy_wait_timeouts) == (1, 1)   # counted once
    assert len(source.node.warnings) == 1 and 'not reported policy 40' in source.node.warnings[0]
    source.session.stale = 50                       # the next update: awaited afresh
    assert source.awaits_policy(20.0)
    source.session.stale = -1                       # its policy node reported it
    assert not source.awaits_policy(20.1)
    assert (source.policy_waits, source.policy_wait_timeouts) == (2, 1)


class _WarnNode:
    """The node side of a wait that timed out: the warnings it logged."""

    def __init__(self):
        self.warnings = []

    def get_logger(self):
        return self

    def warn(self, message, **kwargs):
        self.warnings.append(message)


class _StaleSession:
    """The session side of an on-policy wait: the newest update ``robot1`` has not reported."""

    def __init__(self):
        self.stale = -1

    def stale_policy(self, ns):
        assert ns == 'robot1'
        return self.stale


class _PauseSession:
    """The session side of a pause: which sources were marked paused or resumed."""

    def __init__(self):
        self.calls = []

    def source_paused(self, ns, paused):
        self.calls.append((ns, paused))


class _ResetSession:
    """The session side of EpisodeResets: one reset wanted, episodes ended recorded."""

    def __init__(self):
        self.awaiting, self.ended = False, []

    def needs_reset(self):
        return not self.awaiting and not self.ended

    def awaiting_reset(self):
        return self.awaiting

    def begin_reset(self, log_time):
        self.awaiting = True

    def end_reset(self, episode, stamp, log_time, command=None):
        self.awaiting = False
        self.ended.append(episode)


def _reset_answer(future, episode):
    import json

    from std_srvs.srv import Trigger
    future.set_result(Trigger.Response(
        success=True, message=json.dumps({'episode': episode, 'stamp': 1.0})))


def test_an_unanswered_reset_request_is_sent_again_and_a_late_answer_ignored(monkeypatch):
    """A lost reset reply must not stall the episode, nor end it twice when it comes late."""
    from robotrl_ros.ros import episode_resets, pending_request
    now = [100.0]
    monkeypatch.setattr(pending_request.time, 'monotonic', lambda: now[0])
    resets = episode_resets.EpisodeResets.__new__(episode_resets.EpisodeResets)
    resets.session = session = _ResetSession()
    resets._ns = lambda: 0
    resets.client = service = _UnansweredService()
    resets._bridge_checked = True
    resets._reset_request = pending_request.PendingRequest(episode_resets.RESET_RETRY)
    resets.tick()                           # needed: requested
    resets.tick()                           # in flight: not requested twice
    assert len(service.requests) == 1
    now[0] += episode_resets.RESET_RETRY + 0.5
    resets.tick()                           # unanswered too long: abandoned
    assert service.removed == [service.futures[0]]
    resets.tick()                           # ... and asked again
    assert len(service.requests) == 2
    _reset_answer(service.futures[1], episode=2)
    assert session.ended == [2] and not session.awaiting
    _reset_answer(service.futures[0], episode=1)    # the lost one, answered late: ignored
    assert session.ended == [2]
    resets.tick()                           # nothing wanted: nothing sent
    assert len(service.requests) == 2
