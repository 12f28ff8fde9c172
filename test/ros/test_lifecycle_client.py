# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The lifecycle client brings policy nodes to a state through their real services."""

import threading

import pytest
from doubles.ros_graph import InProcessGraph
from lifecycle_msgs.srv import GetState
from rclpy.parameter import Parameter

from robotrl_ros.nodes.policy_node import PolicyNode
from robotrl_ros.policy.synthetic import make_synthetic_artifact
from robotrl_ros.ros.lifecycle_client import LifecycleError, bring_to_states, transitions


def test_the_transitions_between_primary_states():
    assert [label for label, _ in transitions('unconfigured', 'active')] == ['configure',
                                                                             'activate']
    assert [label for label, _ in transitions('active', 'unconfigured')] == ['deactivate',
                                                                             'cleanup']
    assert transitions('inactive', 'inactive') == []
    with pytest.raises(LifecycleError, match="'finalized'"):
        transitions('finalized', 'active')


class Spinning:
    """Policy nodes spinning in a thread while the client (its own context) drives them."""

    def __init__(self, *nodes):
        self.graph = InProcessGraph(*nodes)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._spin, daemon=True)
        self.thread.start()

    def _spin(self):
        while not self.stop.is_set():
            self.graph.executor.spin_once(timeout_sec=0.01)

    def close(self):
        self.stop.set()
        self.thread.join()
        self.graph.close()


def policy_node(namespace, **params):
    return PolicyNode(namespace=namespace, parameter_overrides=[
        Parameter(k, value=v) for k, v in {'autostart': 'unconfigured',
                                           'trust_artifact_limits': True, **params}.items()])


def test_nodes_reach_their_targets_and_a_failed_configure_is_named(ros_module, tmp_path):
    artifact = make_synthetic_artifact(tmp_path / 'a', n_joints=3, hidden=(8,), seed=0)
    good = policy_node('good', policy_path=str(artifact))
    other = policy_node('other', policy_path=str(artifact))
    bad = policy_node('bad', policy_path=str(tmp_path / 'missing'))
    spinning = Spinning(good, other, bad)
    try:
        assert bring_to_states({'/good/policy_node': 'active',
                                '/other/policy_node': 'inactive'})
        assert good.lifecycle_state == 'active' and other.lifecycle_state == 'inactive'
        assert bring_to_states({'/good/policy_node': 'unconfigured'})   # and back down
        assert good.lifecycle_state == 'unconfigured'
        with pytest.raises(LifecycleError, match=r'^/bad/policy_node: the configure '
                                                 r'transition failed \(now unconfigured\)'):
            bring_to_states({'/bad/policy_node': 'inactive'})
        assert 'not a directory' in bad.lifecycle_error
        assert not bring_to_states({'/nobody/policy_node': 'active'}, lambda: False)
    finally:
        spinning.close()


@pytest.mark.parametrize('lost', ['request', 'answer'])
def test_a_lost_request_or_answer_is_recovered_without_a_second_transition(ros_module, tmp_path,
                                                                           monkeypatch, lost):
    """DDS can lose either while a new client and server are still being matched.

    A lost ``change_state`` request leaves the node where it was (sent again); a lost answer
    leaves it transitioned (read from ``get_state``, not sent again: a second ``configure``
    would fail). The first ``get_state`` is lost too.
    """
    from robotrl_ros.ros import lifecycle_client
    artifact = make_synthetic_artifact(tmp_path / 'a', n_joints=3, hidden=(8,), seed=0)
    node = policy_node('lossy', policy_path=str(artifact))
    spinning = Spinning(node)
    real = lifecycle_client._Client._answer
    to_lose = {'GetState_Request': 1, 'ChangeState_Request': 1}
    sent = []

    def lossy(self, client, request, timeout):
        kind = type(request).__name__
        if to_lose.get(kind):
            to_lose[kind] -= 1
            if lost == 'answer' or kind == 'GetState_Request':
                real(self, client, request, timeout)   # it happened; the answer is dropped
                sent.append(kind)
            return None
        sent.append(kind)
        return real(self, client, request, timeout)
    monkeypatch.setattr(lifecycle_client._Client, '_answer', lossy)
    try:
        assert bring_to_states({'/lossy/policy_node': 'active'})
        assert node.lifecycle_state == 'active' and node.lifecycle_error is None
        # configure once (sent again only when the request itself was lost), activate once
        assert sent.count('ChangeState_Request') == 2
    finally:
        spinning.close()


def test_a_node_that_never_answers_a_client_is_asked_by_new_clients(ros_module, tmp_path,
                                                                       monkeypatch):
    """Unanswered ``get_state`` requests in a row: the next goes through new clients."""
    from robotrl_ros.ros import lifecycle_client
    artifact = make_synthetic_artifact(tmp_path / 'a', n_joints=3, hidden=(8,), seed=0)
    node = policy_node('deaf', policy_path=str(artifact))
    spinning = Spinning(node)
    real = lifecycle_client._Client._answer
    first_client, used = [], []

    def deaf_to_the_first_client(self, client, request, timeout):
        if isinstance(request, GetState.Request):
            first_client[:] = first_client or [client]
            used.append(client)
            if client is first_client[0]:
                return None          # as if its answers never reached this client
        return real(self, client, request, timeout)
    monkeypatch.setattr(lifecycle_client._Client, '_answer', deaf_to_the_first_client)
    try:
        assert bring_to_states({'/deaf/policy_node': 'inactive'})
        assert node.lifecycle_state == 'inactive'
        renew = lifecycle_client.RENEW_AFTER
        assert used[:renew] == [first_client[0]] * renew
        assert all(client is not first_client[0] for client in used[renew:]) and used[renew:]
    finally:
        spinning.close()


def test_command_line_arguments_are_not_remapping_rules_for_the_client(ros_module, tmp_path,
                                                                        monkeypatch):
    # `robotrl up deploy --set policy_path:=...`: sys.argv holds `name:=value` words; a client
    # that took them as ROS remapping rules would call renamed services (here: none answers).
    artifact = make_synthetic_artifact(tmp_path / 'a', n_joints=3, hidden=(8,), seed=0)
    node = policy_node('argv', policy_path=str(artifact))
    spinning = Spinning(node)
    monkeypatch.setattr('sys.argv', ['robotrl', 'up', 'deploy', '--set',
                                     '/argv/policy_node/change_state:=/nobody/change_state'])
    try:
        assert bring_to_states({'/argv/policy_node': 'inactive'})
        assert node.lifecycle_state == 'inactive'
    finally:
        spinning.close()
