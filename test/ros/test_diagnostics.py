# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The /diagnostics level rules: status fields (and what changed since the last report)."""

import pytest
from diagnostic_msgs.msg import DiagnosticStatus

from robotrl_ros.ros.diagnostics import (
    ERROR,
    OK,
    STALE,
    WARN,
    Check,
    Deltas,
    diagnostic_array,
    policy_node_checks,
    sim_bridge_checks,
    trainer_node_checks,
)


def levels(checks):
    return {check.aspect: check.level for check in checks}


# --- policy_node ---------------------------------------------------------------------------
def policy_status(**changes):
    """A healthy, armed policy node's ~/status (plus ``timed_out``)."""
    status = {'state': 'armed', 'armed': True, 'policy_version': 'v1', 'task': 'reach',
              'fault': None, 'missing_joints': [], 'last_input_error': None,
              'last_reload_error': None, 'timed_out': False, 'control_rate_hz': 50.0,
              'counts': {'states': 100, 'invalid_inputs': 0, 'non_monotonic': 0, 'timeouts': 0},
              'end_to_end_latency_ms': {'p50': 0.4, 'p90': 0.6, 'p99': 0.9},
              'inference_latency_ms': {'p50': 0.1, 'p90': 0.1, 'p99': 0.2}}
    status.update(changes)
    return status


def policy_levels(latency_warn_ms=20.0, **changes):
    return levels(policy_node_checks(policy_status(**changes), Deltas(), latency_warn_ms))


def test_a_healthy_armed_policy_node_is_ok_everywhere():
    assert policy_levels() == {'control': OK, 'inputs': OK, 'latency': OK}
    assert policy_levels(armed=False, state='disarmed')['control'] == OK


@pytest.mark.parametrize('changes', [
    {'missing_joints': ['joint_0']},
    {'missing_joints': ['joint_0'], 'armed': False},
    {'policy_version': None, 'last_reload_error': 'policy.yaml: bad sha256'},
    {'fault': 'observation contains NaN/Inf'},
    {'fault': 'policy produced NaN/Inf; holding'},
], ids=['missing_joint', 'missing_joint_disarmed', 'load_failed', 'nan_observation',
        'nan_action'])
def test_policy_node_faults_are_errors(changes):
    assert policy_levels(**changes)['control'] == ERROR


@pytest.mark.parametrize('changes', [
    {'timed_out': True, 'fault': 'no fresh joint_states for more than 0.5 s'},
    {'policy_version': None},
    {'last_reload_error': 'new policy commands other joints'},
    {'counts': {'states': 0}},
], ids=['watchdog', 'no_policy_yet', 'update_rejected', 'no_state_yet'])
def test_policy_node_degraded_states_are_warnings(changes):
    assert policy_levels(**changes)['control'] == WARN


def test_the_lifecycle_state_shows_and_a_failed_transition_is_an_error():
    checks = policy_node_checks(policy_status(lifecycle='inactive', armed=False,
                                              state='disarmed'), Deltas(), 20.0)
    control = next(c for c in checks if c.aspect == 'control')
    assert control.level == OK and control.values['lifecycle'] == 'inactive'
    assert policy_levels(lifecycle='unconfigured', armed=False, policy_version=None,
                         state='disarmed')['control'] == WARN
    error = 'configure failed: cannot load policy: /p: not a directory'
    checks = policy_node_checks(policy_status(lifecycle='unconfigured', lifecycle_error=error,
                                              state='faulted'), Deltas(), 20.0)
    control = next(c for c in checks if c.aspect == 'control')
    assert control.level == ERROR and error in control.message and 'unconfigured' in \
        control.message


def test_the_mode_shows_and_robot_mismatches_warn():
    checks = policy_node_checks(policy_status(mode='stand', state='standing', armed=False,
                                              policy_version=None), Deltas(), 20.0)
    assert checks[0].level == OK and 'standing up' in checks[0].message
    assert checks[0].values['mode'] == 'stand'
    checks = policy_node_checks(policy_status(robot_mismatches=['kp differs: hip kp 25 != 20']),
                                Deltas(), 20.0)
    assert checks[0].level == WARN and 'kp differs: hip' in checks[0].message


def test_the_missing_joint_message_names_the_joint():
    checks = policy_node_checks(policy_status(missing_joints=['elbow']), Deltas(), 20.0)
    assert 'elbow' in checks[0].message


def test_policy_inputs_follow_the_counters_of_the_last_period():
    deltas = Deltas()
    first = policy_status()
    assert levels(policy_node_checks(first, deltas, 20.0))['inputs'] == OK
    # nothing new: no joint_states in the period
    assert levels(policy_node_checks(first, deltas, 20.0))['inputs'] == STALE
    refused = policy_status(counts={'states': 100, 'invalid_inputs': 3, 'non_monotonic': 0},
                            last_input_error='joint_states: NaN in position')
    checks = policy_node_checks(refused, deltas, 20.0)
    assert levels(checks)['inputs'] == WARN and 'NaN' in checks[1].message
    more = policy_status(counts={'states': 150, 'invalid_inputs': 3, 'non_monotonic': 0})
    assert levels(policy_node_checks(more, deltas, 20.0))['inputs'] == OK


def test_policy_latency_above_the_threshold_warns_and_zero_never_does():
    slow = {'end_to_end_latency_ms': {'p50': 5.0, 'p90': 20.0, 'p99': 30.0}}
    assert policy_levels(**slow)['latency'] == WARN
    assert policy_levels(latency_warn_ms=50.0, **slow)['latency'] == OK
    assert policy_levels(latency_warn_ms=0.0, **slow)['latency'] == OK
    no_samples = {'end_to_end_latency_ms': {'p50': None, 'p90': None, 'p99': None}}
    assert policy_levels(**no_samples)['latency'] == OK


# --- sim_bridge ----------------------------------------------------------------------------
def sim_status(**changes):
    status = {'task': 'reach', 'mode': 'real_time', 'step_rate': 50.0, 'steps': 500,
              'episode': 3, 'sim_time': 10.0, 'rejected_commands': 0,
              'dropped_stale_commands': 0, 'last_rejection': None}
    status.update(changes)
    return status


def test_sim_bridge_levels():
    assert levels(sim_bridge_checks(sim_status(), Deltas(), 50.0)) == {
        'simulation': OK, 'commands': OK}
    slow = sim_bridge_checks(sim_status(step_rate=30.0), Deltas(), 50.0)
    assert levels(slow)['simulation'] == WARN and 'real time' in slow[0].message
    # lockstep: no control rate to keep, idle is fine
    assert levels(sim_bridge_checks(sim_status(step_rate=0.0), Deltas(), None))['simulation'] \
        == OK


def test_sim_bridge_rejected_commands_are_errors_for_the_period_they_happen_in():
    deltas = Deltas()
    assert levels(sim_bridge_checks(sim_status(), deltas, 50.0))['commands'] == OK
    bad = sim_status(rejected_commands=4, last_rejection='command has 2 entries, expected 3')
    checks = sim_bridge_checks(bad, deltas, 50.0)
    assert levels(checks)['commands'] == ERROR and 'expected 3' in checks[1].message
    assert levels(sim_bridge_checks(bad, deltas, 50.0))['commands'] == OK   # none since


# --- trainer_node --------------------------------------------------------------------------
def trainer_status(paired=100, bad=None, **drops):
    return {'updates': 10, 'transitions': paired, 'transitions_stored': paired, 'queued': 0,
            'done': False, 'paused': False, 'failure': None, 'bad_messages': bad or {},
            'pairing': {'paired': paired, **{f'dropped_{k}': v for k, v in drops.items()}}}


def test_trainer_levels():
    assert levels(trainer_node_checks(trainer_status(), Deltas())) == {
        'learning': OK, 'stream': OK}
    failed = dict(trainer_status(), failure='saving the checkpoint failed: No space left')
    assert levels(trainer_node_checks(failed, Deltas()))['learning'] == ERROR
    assert levels(trainer_node_checks(dict(trainer_status(), done=True), Deltas())) == {
        'learning': OK, 'stream': OK}


def test_trainer_stream_follows_the_last_period():
    deltas = Deltas()
    assert levels(trainer_node_checks(trainer_status(100), deltas))['stream'] == OK
    assert levels(trainer_node_checks(trainer_status(100), deltas))['stream'] == STALE
    # only refused joint_states since: the stream is broken
    assert levels(trainer_node_checks(trainer_status(100, {'bad_joint_state': 5}),
                                      deltas))['stream'] == ERROR
    # some refused, some paired
    assert levels(trainer_node_checks(trainer_status(120, {'bad_joint_state': 6}),
                                      deltas))['stream'] == WARN
    # 20 paired, 10 lost to gaps: a third lost
    assert levels(trainer_node_checks(trainer_status(140, {'bad_joint_state': 6}, gap=10),
                                      deltas))['stream'] == WARN
    # routine drops (episode ends) are not losses
    assert levels(trainer_node_checks(
        trainer_status(160, {'bad_joint_state': 6}, gap=10, after_episode_end=15),
        deltas))['stream'] == OK
    paused = dict(trainer_status(160, {'bad_joint_state': 6}, gap=10, after_episode_end=15),
                  paused=True)
    assert levels(trainer_node_checks(paused, deltas))['stream'] == OK


# --- the message ---------------------------------------------------------------------------
def test_the_array_names_each_aspect_after_the_node_and_carries_its_values():
    checks = [Check('control', ERROR, 'joint_states lacks policy joint(s) [j0]',
                    {'armed': True, 'fault': None, 'p99': 0.123456789, 'joints': ['j0']}),
              Check('inputs', STALE, 'no joint_states')]
    msg = diagnostic_array('/robot1/policy_node', 'reach', checks)
    assert [s.name for s in msg.status] == ['/robot1/policy_node: control',
                                            '/robot1/policy_node: inputs']
    assert msg.status[0].level == DiagnosticStatus.ERROR
    assert msg.status[1].level == DiagnosticStatus.STALE
    assert {s.hardware_id for s in msg.status} == {'reach'}
    assert {kv.key: kv.value for kv in msg.status[0].values} == {
        'armed': 'True', 'fault': '', 'p99': '0.123457', 'joints': '["j0"]'}


def test_an_unknown_level_is_refused_naming_the_aspect():
    with pytest.raises(ValueError, match="'control'.*level 7"):
        diagnostic_array('/n', '', [Check('control', 7, 'x')])
