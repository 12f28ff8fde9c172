# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Bring managed (lifecycle) nodes to a target state through their lifecycle services.

What ``ros2 lifecycle set`` does, for several nodes and from any start state: for each node
``<node>/get_state`` tells where it is, and ``<node>/change_state`` (lifecycle_msgs/srv) runs
the transitions on the way to the target (``configure``, ``activate``; ``deactivate``,
``cleanup`` to go back). :func:`bring_to_states` waits for each node's services (a node that
imports torch on a busy machine starts slowly): its timeouts only catch a hang. A failed
transition is a :class:`LifecycleError` naming the node, the transition and the state it is
left in. It runs its own rclpy context, so it works beside anything else in the process.

A request or its answer can be lost while DDS discovery is still matching a new client with a
new server (Fast DDS logs "failed to send response (timeout)" in the node; e.g. a node
restarted under the same name): an unanswered ``get_state`` is sent again after
:data:`ATTEMPT_TIMEOUT`, by new clients after :data:`RENEW_AFTER` in a row (once seen: 24
requests over 120 s unanswered by a node that was up, on a loaded machine); for an unanswered
``change_state`` the node's state decides between "it happened" and "send it again".
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

import rclpy
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState, GetState
from rclpy.executors import SingleThreadedExecutor
from rclpy.signals import SignalHandlerOptions

#: Primary states in order, and the transition that moves one step up or down.
PRIMARY_STATES = ('unconfigured', 'inactive', 'active')
UP = {'unconfigured': ('configure', Transition.TRANSITION_CONFIGURE),
      'inactive': ('activate', Transition.TRANSITION_ACTIVATE)}
DOWN = {'active': ('deactivate', Transition.TRANSITION_DEACTIVATE),
        'inactive': ('cleanup', Transition.TRANSITION_CLEANUP)}
#: Seconds to wait for a node's lifecycle services (only catches a hang).
SERVICE_TIMEOUT = 240.0
#: Seconds to wait for one answer (a configure loads and checks an artifact).
ANSWER_TIMEOUT = 120.0
#: Seconds after which an unanswered request counts as lost and is checked or sent again.
ATTEMPT_TIMEOUT = 5.0
#: Unanswered ``get_state`` requests in a row after which the clients are made anew.
RENEW_AFTER = 3
_names = itertools.count()


class LifecycleError(RuntimeError):
    """A node could not be brought to its target state (the message names it and why)."""


class Aborted(Exception):  # noqa: N818 - a control-flow signal, not an error
    """``keep_going()`` returned False: stop waiting (e.g. a node process exited)."""


def transitions(current: str, target: str) -> list[tuple[str, int]]:
    """The (label, id) transitions from ``current`` to ``target`` (both primary states).

    Raises:
        LifecycleError: Either is not a primary state one can move from or to.
    """
    for state in (current, target):
        if state not in PRIMARY_STATES:
            raise LifecycleError(f'cannot go from {current!r} to {target!r}: '
                                 f'states are {list(PRIMARY_STATES)}')
    steps, state = [], current
    while state != target:
        up = PRIMARY_STATES.index(target) > PRIMARY_STATES.index(state)
        label, transition_id = (UP if up else DOWN)[state]
        steps.append((label, transition_id))
        state = PRIMARY_STATES[PRIMARY_STATES.index(state) + (1 if up else -1)]
    return steps


class _Client:
    """One rclpy context and node that calls lifecycle services."""

    def __init__(self, keep_going: Callable[[], bool]) -> None:
        self.keep_going = keep_going
        self.context = rclpy.Context()
        # args=[]: the CLI words (`--set name:=value`) are no ROS remapping rules for this node.
        rclpy.init(args=[], context=self.context,
                   signal_handler_options=SignalHandlerOptions.NO)
        self.node = rclpy.create_node(f'robotrl_lifecycle_{os.getpid()}_{next(_names)}',
                                      context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._clients: dict[str, tuple[Any, Any]] = {}

    def wait(self, condition: Callable[[], Any], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if not self.keep_going():
                raise Aborted
            if time.monotonic() > deadline:
                raise LifecycleError(f'no {what} within {timeout:g} s')
            self.executor.spin_once(timeout_sec=0.05)

    def _ready(self, client: Any, node: str) -> None:
        self.wait(client.service_is_ready, SERVICE_TIMEOUT, f'{client.srv_name} service '
                  f'(is {node} running and a managed node?)')

    def _answer(self, client: Any, request: Any, timeout: float) -> Any | None:
        """The answer to one request within ``timeout`` s, or None (the request is dropped)."""
        future = client.call_async(request)
        try:
            self.wait(future.done, timeout, f'answer from {client.srv_name}')
        except LifecycleError:
            client.remove_pending_request(future)
            return None
        return future.result()

    def clients(self, node: str, renew: bool = False) -> tuple[Any, Any]:
        """The ``get_state`` and ``change_state`` clients of ``node`` (new ones if ``renew``)."""
        if renew or node not in self._clients:
            for client in self._clients.pop(node, ()):
                self.node.destroy_client(client)
            self._clients[node] = (self.node.create_client(GetState, f'{node}/get_state'),
                                   self.node.create_client(ChangeState, f'{node}/change_state'))
        return self._clients[node]

    def state(self, node: str) -> str:
        """The node's current state label (``get_state`` sent again while unanswered).

        After :data:`RENEW_AFTER` unanswered requests in a row the clients are made anew: new
        endpoints that DDS discovery matches afresh.
        """
        deadline = time.monotonic() + ANSWER_TIMEOUT
        for attempt in itertools.count(1):
            get_state, _ = self.clients(node, renew=attempt > 1 and attempt % RENEW_AFTER == 1)
            self._ready(get_state, node)
            answer = self._answer(get_state, GetState.Request(), ATTEMPT_TIMEOUT)
            if answer is not None:
                return answer.current_state.label
            if time.monotonic() > deadline:
                raise LifecycleError(f'no answer from {get_state.srv_name} within '
                                     f'{ANSWER_TIMEOUT:g} s ({attempt} requests)')
        raise AssertionError('unreachable')

    def change(self, node: str, label: str, transition_id: int, before: str,
               after: str) -> bool:
        """Run one transition; whether it succeeded (a lost answer is read from the state)."""
        request = ChangeState.Request()
        request.transition.id = transition_id
        deadline = time.monotonic() + ANSWER_TIMEOUT
        answer = None
        while answer is None:
            _, change_state = self.clients(node)
            self._ready(change_state, node)
            answer = self._answer(change_state, request, ATTEMPT_TIMEOUT)
            if answer is not None:
                break
            now = self.state(node)   # answered once the transition is over
            if now == after:
                return True
            if time.monotonic() > deadline:
                raise LifecycleError(f'no answer from {change_state.srv_name} within '
                                     f'{ANSWER_TIMEOUT:g} s (now {now})')
            if now != before:        # before: the request was lost, send it again
                raise LifecycleError(f'the {label} transition left it {now}')
        return bool(answer.success)

    def bring(self, node: str, target: str) -> str:
        state = self.state(node)
        for label, transition_id in transitions(state, target):
            after = PRIMARY_STATES[PRIMARY_STATES.index(state)
                                   + (1 if label in ('configure', 'activate') else -1)]
            if not self.change(node, label, transition_id, state, after):
                now = self.state(node)
                raise LifecycleError(f'{node}: the {label} transition failed (now {now}); '
                                     f'the reason is in its log and {node}/status')
            state = after
        return state

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


def bring_to_states(targets: Mapping[str, str],
                    keep_going: Callable[[], bool] = lambda: True) -> bool:
    """Bring each node (fully qualified name) to its target primary state, in order.

    Args:
        targets: ``{'/ns/policy_node': 'active', ...}``.
        keep_going: Polled while waiting; False stops at once (a node process exited, a stop
            was requested): the caller reports that.

    Returns:
        True when every node reached its target; False when ``keep_going`` stopped it.

    Raises:
        LifecycleError: A node's services did not appear, or a transition failed (named).
    """
    if not targets:
        return True
    client = _Client(keep_going)
    try:
        for node, target in targets.items():
            try:
                client.bring(node, target)
            except LifecycleError as exc:
                message = str(exc)
                raise LifecycleError(message if message.startswith(node)
                                     else f'{node}: {message}') from None
    except Aborted:
        return False
    finally:
        client.close()
    return True
