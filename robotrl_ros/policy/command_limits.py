# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Which command limits a policy runs under, and which policies and limits are refused.

The policy controller's commands pass a :class:`~robotrl_ros.policy.safety.CommandFilter`
whose limits are the intersection of the robot's
(:class:`~robotrl_ros.policy.joint_limits.JointLimits`) and the artifact's. This module builds
that filter (:func:`command_filter`, carrying the previous one's last command and counters over
a change of policy, settings or limits) and says what the limits refuse:

- a reload for other joints, another command interface or command input, or with limits wider
  than the robot's (:func:`reload_refusal`);
- arming without the robot's limits (unless ``trust_artifact_limits``), or with limits that
  leave a joint of the policy unbounded (:func:`limits_arm_refusal`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from robotrl_ros.policy.artifact import PolicyArtifact
from robotrl_ros.policy.controller_config import ControllerConfig
from robotrl_ros.policy.joint_limits import JointLimits
from robotrl_ros.policy.safety import CommandFilter
from robotrl_ros.tasks.spec import TaskSpec

#: Slack when comparing an artifact's limits to the robot's (YAML round trips).
LIMIT_TOLERANCE = 1e-9
#: What a reload must keep from the running policy.
RELOAD_INVARIANTS = ('joint_names', 'command_interface', 'command_input')


def wider_than_robot(spec: TaskSpec, node_limits: JointLimits) -> list[str]:
    """``joint [lo, hi] > robot [lo, hi]`` for each joint whose limits exceed the robot's."""
    if not node_limits:
        return []
    low, high = node_limits.command_bounds(spec.joint_names, spec.command_interface)
    return [f'{name} [{lo:g}, {hi:g}] > robot [{rlo:g}, {rhi:g}]'
            for name, lo, hi, rlo, rhi in zip(spec.joint_names, spec.command_lower,
                                              spec.command_upper, low, high, strict=True)
            if lo < rlo - LIMIT_TOLERANCE or hi > rhi + LIMIT_TOLERANCE]


def reload_refusal(running: TaskSpec, new: TaskSpec, where: str,
                   node_limits: JointLimits) -> str | None:
    """Why policy ``new`` (described as ``where``) may not replace ``running`` (None: it may)."""
    for attr in RELOAD_INVARIANTS:
        if getattr(new, attr) != getattr(running, attr):
            return (f'{where} has {attr} {_shown(getattr(new, attr))}, the running one '
                    f'{_shown(getattr(running, attr))}: refused')
    wider = wider_than_robot(new, node_limits)
    if wider:
        return f"{where}: command limits wider than the robot's for {'; '.join(wider)}: refused"
    return None


def limits_note(spec: TaskSpec, node_limits: JointLimits) -> str | None:
    """How the robot's limits narrow the artifact's (None: they do not)."""
    wider = wider_than_robot(spec, node_limits)
    return f"artifact limits clamped to the robot's for {'; '.join(wider)}" if wider else None


def limits_arm_refusal(spec: TaskSpec | None, node_limits: JointLimits, trust_artifact: bool,
                       awaited: str | None) -> str | None:
    """Why the robot's limits refuse arming for policy ``spec`` (None: they allow it).

    Args:
        spec: The running policy's spec, or None before one is loaded.
        node_limits: The robot's limits (empty: none).
        trust_artifact: ``trust_artifact_limits``: the artifact's limits suffice.
        awaited: Where the missing limits are expected from, for the message (or None).
    """
    if trust_artifact:
        return None
    if not node_limits:
        awaited = f'{awaited}; or ' if awaited else ''
        return (f'no robot limits ({awaited}set robot_description and/or joint_limits; '
                'trust_artifact_limits: true only for a simulator): refusing to arm')
    uncovered = node_limits.uncovered(spec.joint_names, spec.command_interface) \
        if spec is not None else []
    if uncovered:
        return (f"the robot's limits ({', '.join(node_limits.sources)}) do not bound "
                f'the {spec.command_interface} commands of joint(s) {uncovered}: refusing '
                'to arm')
    return None


def command_filter(artifact: PolicyArtifact, config: ControllerConfig,
                   node_limits: JointLimits, previous: CommandFilter | None,
                   position: np.ndarray | None) -> CommandFilter:
    """The filter for ``artifact`` under ``config`` and the robot's limits.

    It continues ``previous`` (the last command, moved inside the new limits, and the
    counters); without one it starts from the measured ``position``.

    Raises:
        ValueError: Limits that do not overlap, or invalid settings (from
            :class:`~robotrl_ros.policy.safety.CommandFilter`).
    """
    new_filter = CommandFilter(artifact.spec, config.joint_limit_margin,
                               config.max_command_delta, node_limits=node_limits,
                               max_command_rate=config.max_command_rate,
                               control_period=(config.control_period or
                                               artifact.spec.control_period))
    if previous is not None:   # continue from the last command, inside the new limits
        last = previous.last
        new_filter.last = None if last is None else \
            np.minimum(np.maximum(last, new_filter.lower), new_filter.upper)
        new_filter.clamped, new_filter.rate_limited = previous.clamped, previous.rate_limited
    else:
        new_filter.reset(position)
    return new_filter


def _shown(value: Any) -> str:
    return repr(list(value)) if isinstance(value, tuple) else repr(value)
