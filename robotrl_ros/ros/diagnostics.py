# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``/diagnostics``: each node's ``~/status`` fields as diagnostic_msgs/DiagnosticArray.

ROS tools (rqt_robot_monitor, diagnostic_aggregator) read ``/diagnostics``. Every status period
a node publishes one array with one DiagnosticStatus per *aspect* of its state, named
``<node fully qualified name>: <aspect>`` like diagnostic_updater does, its ``hardware_id`` the
task (``sim:<task>`` for the simulator) and its key/values the fields that decided the level.
Counters are judged by what changed since the previous report ("in the last period").

Level rules, first match wins (docs/interfaces.md repeats them):

policy_node
    ``control``: ERROR when the last lifecycle transition failed, when joint_states lack a
    policy joint, when no policy is loaded and the last load failed, or on a fault while armed
    (NaN/Inf observation or action, an observation that cannot be built); WARN when the node
    is unconfigured (lifecycle), when no policy is loaded yet, on the state watchdog (armed,
    no fresh joint_states for ``state_timeout``), when armed but no state arrived yet, or when
    an update was rejected and the old policy runs on; else OK (armed and commanding, or
    disarmed).
    ``inputs``: WARN when inputs were refused in the last period (invalid or non-monotonic
    joint_states, bad goals); STALE when no joint_states arrived in it; else OK.
    ``latency``: WARN when the p99 end-to-end latency (joint_states received to command sent)
    is above ``latency_warn_ms`` (0 = never); else OK.
sim_bridge
    ``simulation``: WARN in real time when the step rate fell below ``RATE_WARN_FRACTION`` of
    the control rate; else OK.
    ``commands``: ERROR when commands were rejected in the last period (wrong length, NaN/Inf:
    never applied); else OK.
trainer_node
    ``learning``: ERROR when learning or storage failed; else OK.
    ``stream``: OK while paused (learning catches up); ERROR when messages were refused in the
    last period and no transition was paired in it; WARN when some were refused, or when more
    than ``DROP_WARN_FRACTION`` of the period's transitions were lost (:data:`LOSS_REASONS`);
    STALE when nothing arrived in the last period; else OK.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node

from robotrl_ros.ros.qos import quiet_publisher

OK, WARN, ERROR, STALE = 0, 1, 2, 3
LEVEL_NAMES = {OK: 'OK', WARN: 'WARN', ERROR: 'ERROR', STALE: 'STALE'}

#: /diagnostics is absolute: namespaced nodes publish on it too (as diagnostic_updater does).
DIAGNOSTICS_TOPIC = '/diagnostics'
#: sim_bridge in real time: WARN below this fraction of the control rate.
RATE_WARN_FRACTION = 0.8
#: trainer_node: WARN when more than this fraction of a period's transitions were lost.
DROP_WARN_FRACTION = 0.1
#: Pairing drops that lose data; the others are routine (episode ends, resets, re-sent states).
LOSS_REASONS = ('gap', 'out_of_order_state', 'missing_input', 'goal_changed')


@dataclass
class Check:
    """One aspect of a node's state: a DiagnosticStatus before it becomes a message."""

    aspect: str
    level: int
    message: str
    values: dict[str, Any] = field(default_factory=dict)


class Deltas:
    """Increase of counters since the previous report (a counter's first report: its value)."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}

    def __call__(self, name: str, value: float | None) -> float:
        """How much counter ``name`` grew since the previous call for it."""
        value = value or 0
        previous = self._last.get(name, 0)
        self._last[name] = value
        return max(value - previous, 0)


def _text(value: Any) -> str:
    if value is None:
        return ''
    if isinstance(value, (float, np.floating)):
        return f'{float(value):.6g}'
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, default=str)
    return str(value)


def _p99(latency: Mapping[str, Any] | None) -> float | None:
    return (latency or {}).get('p99')


def policy_node_checks(status: Mapping[str, Any], deltas: Deltas,
                       latency_warn_ms: float) -> list[Check]:
    """policy_node's aspects from its ``~/status`` fields plus ``timed_out`` (the watchdog)."""
    counts = status.get('counts', {})
    states = deltas('states', counts.get('states'))
    refused = deltas('refused', counts.get('invalid_inputs', 0) + counts.get('non_monotonic', 0))
    version, fault = status.get('policy_version'), status.get('fault')
    reload_error, missing = status.get('last_reload_error'), status.get('missing_joints')
    armed = status.get('armed', False)
    mismatches = status.get('robot_mismatches') or []
    lifecycle, lifecycle_error = status.get('lifecycle'), status.get('lifecycle_error')
    values = {'state': status.get('state'), 'mode': status.get('mode'), 'armed': armed,
              'policy_version': version, 'fault': fault, 'timeouts': counts.get('timeouts', 0),
              'last_reload_error': reload_error, 'robot_mismatches': mismatches,
              'lifecycle': lifecycle, 'lifecycle_error': lifecycle_error}
    if lifecycle_error:
        control = (ERROR, f'{lifecycle_error} ({lifecycle})', values)
    elif lifecycle not in (None, 'active', 'inactive'):
        control = (WARN, f'{lifecycle}: not configured (lifecycle configure, or ~/enable)',
                   values)
    elif missing:
        control = (ERROR, f'joint_states lacks policy joint(s) {list(missing)}', values)
    elif version is None and reload_error:
        control = (ERROR, f'no policy: {reload_error}', values)
    elif status.get('mode') == 'stand':
        control = (OK, f'standing up to the default pose, policy {version}', values)
    elif version is None:
        control = (WARN, 'no policy loaded yet (policy_path / policy_updates)', values)
    elif not armed:
        control = (OK, f'disarmed, policy {version}', values)
    elif status.get('timed_out'):
        control = (WARN, f'watchdog: {fault}', values)
    elif not counts.get('states'):
        control = (WARN, 'armed, waiting for the first joint_states', values)
    elif fault:
        control = (ERROR, fault, values)
    elif reload_error:
        control = (WARN, f'update rejected, running policy {version}: {reload_error}', values)
    else:
        control = (OK, f'armed, running policy {version}', values)
    if control[0] == OK and mismatches:
        control = (WARN, f'{control[1]}; robot mismatch: {"; ".join(mismatches)}', values)

    values = {'joint_states': states, 'refused': refused, 'missing_joints': missing or [],
              'last_input_error': status.get('last_input_error')}
    if refused:
        inputs = (WARN, f'{refused} input(s) refused: {status.get("last_input_error")}', values)
    elif not states:
        inputs = (STALE, 'no joint_states in the last period', values)
    else:
        inputs = (OK, f'{states} joint_states', values)

    e2e, inference = status.get('end_to_end_latency_ms'), status.get('inference_latency_ms')
    values = {'end_to_end_p50_ms': (e2e or {}).get('p50'), 'end_to_end_p99_ms': _p99(e2e),
              'inference_p50_ms': (inference or {}).get('p50'), 'inference_p99_ms':
              _p99(inference), 'control_rate_hz': status.get('control_rate_hz'),
              'latency_warn_ms': latency_warn_ms}
    p99 = _p99(e2e)
    if latency_warn_ms > 0 and p99 is not None and p99 > latency_warn_ms:
        latency = (WARN, f'p99 end-to-end latency {p99:.3g} ms > {latency_warn_ms:g} ms', values)
    elif p99 is None:
        latency = (OK, 'no command yet', values)
    else:
        latency = (OK, f'p99 end-to-end latency {p99:.3g} ms', values)
    return [Check('control', *control), Check('inputs', *inputs), Check('latency', *latency)]


def sim_bridge_checks(status: Mapping[str, Any], deltas: Deltas,
                      control_rate: float | None) -> list[Check]:
    """sim_bridge's aspects; ``control_rate`` is the real-time step rate (None in lockstep)."""
    rate, steps = status.get('step_rate'), deltas('steps', status.get('steps'))
    values = {'mode': status.get('mode'), 'step_rate': rate, 'control_rate': control_rate,
              'steps': steps, 'episode': status.get('episode'), 'sim_time': status.get('sim_time')}
    if control_rate and rate is not None and rate < RATE_WARN_FRACTION * control_rate:
        simulation = (WARN, f'slower than real time: {rate:.3g} of {control_rate:.3g} steps/s',
                      values)
    elif control_rate is None and not steps:
        simulation = (OK, 'lockstep, idle: waiting for a command', values)
    else:
        simulation = (OK, f'{rate or 0:.3g} steps/s, episode {status.get("episode")}', values)

    rejected = deltas('rejected', status.get('rejected_commands'))
    values = {'rejected': rejected, 'rejected_total': status.get('rejected_commands'),
              'last_rejection': status.get('last_rejection'),
              'dropped_stale_commands': status.get('dropped_stale_commands')}
    if rejected:
        commands = (ERROR, f'{rejected} command(s) rejected: {status.get("last_rejection")}',
                    values)
    else:
        commands = (OK, 'commands accepted', values)
    return [Check('simulation', *simulation), Check('commands', *commands)]


def trainer_node_checks(status: Mapping[str, Any], deltas: Deltas) -> list[Check]:
    """trainer_node's aspects from its ``~/status`` fields plus ``failure`` (None when fine)."""
    failure = status.get('failure')
    values = {'updates': status.get('updates'), 'transitions': status.get('transitions'),
              'transitions_stored': status.get('transitions_stored'),
              'queued': status.get('queued'), 'done': status.get('done'), 'failure': failure}
    if failure:
        learning = (ERROR, failure, values)
    elif status.get('done'):
        learning = (OK, 'finished: total_steps reached', values)
    else:
        learning = (OK, f'{status.get("updates", 0)} updates, '
                        f'{status.get("transitions_stored", 0)} transitions stored', values)

    pairing, bad = status.get('pairing', {}), status.get('bad_messages', {})
    paired = deltas('paired', pairing.get('paired'))
    lost = deltas('lost', sum(pairing.get(f'dropped_{r}', 0) for r in LOSS_REASONS))
    other = deltas('other', sum(v for k, v in pairing.items() if k.startswith('dropped_'))) - lost
    refused = deltas('refused', sum(bad.values()))
    values = {'paired': paired, 'lost': lost, 'other_drops': other, 'refused': refused,
              'bad_messages': dict(bad), 'paused': status.get('paused', False)}
    if status.get('paused'):
        stream = (OK, 'paused while learning catches up', values)
    elif refused and not paired:
        stream = (ERROR, f'every message refused: {dict(bad)}', values)
    elif refused:
        stream = (WARN, f'{refused} message(s) refused: {dict(bad)}', values)
    elif not (paired or lost or other):
        stream = (STALE, 'no transitions in the last period', values)
    elif lost > DROP_WARN_FRACTION * (paired + lost):
        stream = (WARN, f'{lost} of {paired + lost} transitions lost', values)
    else:
        stream = (OK, f'{paired} transitions paired', values)
    return [Check('learning', *learning), Check('stream', *stream)]


def diagnostic_array(node_name: str, hardware_id: str, checks: list[Check],
                     stamp: Any = None) -> DiagnosticArray:
    """The message: one DiagnosticStatus per check, named ``<node_name>: <aspect>``.

    Raises:
        ValueError: If a check's level is not OK, WARN, ERROR or STALE.
    """
    array = DiagnosticArray()
    if stamp is not None:
        array.header.stamp = stamp
    for check in checks:
        if check.level not in LEVEL_NAMES:
            raise ValueError(f'diagnostic {check.aspect!r}: level {check.level!r} is not one of '
                             f'{sorted(LEVEL_NAMES)} (OK, WARN, ERROR, STALE)')
        array.status.append(DiagnosticStatus(
            level=bytes([check.level]), name=f'{node_name}: {check.aspect}',
            message=check.message, hardware_id=hardware_id,
            values=[KeyValue(key=k, value=_text(v)) for k, v in check.values.items()]))
    return array


class DiagnosticsPublisher:
    """A node's ``/diagnostics`` publisher: ``publish(status)`` once per status period.

    Args:
        node: The publishing node (its fully qualified name prefixes every status name).
        checks: The node's rules: status fields and :class:`Deltas` to checks.
        hardware_id: ``hardware_id`` of every status, or a function of the status fields.
    """

    def __init__(self, node: Node,
                 checks: Callable[[Mapping[str, Any], Deltas], list[Check]],
                 hardware_id: str | Callable[[Mapping[str, Any]], str]) -> None:
        self.node = node
        self.checks = checks
        self.hardware_id = hardware_id
        self.deltas = Deltas()
        self.publisher = quiet_publisher(node, DiagnosticArray, DIAGNOSTICS_TOPIC, 10)

    def publish(self, status: Mapping[str, Any]) -> DiagnosticArray:
        """Publish the checks of ``status`` and return the message."""
        hardware_id = (self.hardware_id(status) if callable(self.hardware_id)
                       else self.hardware_id)
        msg = diagnostic_array(self.node.get_fully_qualified_name(), hardware_id,
                               self.checks(status, self.deltas),
                               self.node.get_clock().now().to_msg())
        self.publisher.publish(msg)
        return msg
