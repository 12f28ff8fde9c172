# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""policy_node's ``~/status`` (std_msgs/String JSON; fields in docs/deploy.md)."""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from robotrl_ros.ros.status import percentiles


def node_status(node: Any) -> dict[str, Any]:
    """The ``~/status`` fields of a :class:`~robotrl_ros.nodes.policy_node.PolicyNode`.

    ``state``: ``standing`` (mode ``stand``), ``disarmed``, ``faulted`` (armed with a fault,
    missing joints or no policy, or the last lifecycle transition failed) or ``armed``.
    ``lifecycle``: the lifecycle state (``unconfigured``, ``inactive``, ``active``, ...);
    ``lifecycle_error``: why the last transition failed (None after a successful one).
    """
    c = node.controller
    faulted = c.fault or node.missing_joints or c.artifact is None
    modes = node.modes.status_fields()
    recent = np.count_nonzero(node.command_times.values() >= time.monotonic() - 2.0)
    return {
        **c.status_fields(), 'node': node.get_name(),
        'state': 'faulted' if node.lifecycle_error else 'standing' if modes['mode'] == 'stand'
        else 'disarmed' if not c.armed else 'faulted' if faulted else 'armed', **modes,
        'lifecycle': node.lifecycle_state, 'lifecycle_error': node.lifecycle_error,
        'control_mode': node.params.control_mode, 'control_rate_hz': recent / 2.0,
        'inference_latency_ms': percentiles(c.inference_ms.values()),
        'end_to_end_latency_ms': percentiles(node.e2e_ms.values()),
        'missing_joints': node.missing_joints, 'last_input_error': node.last_input_error,
        'last_reload_error': node.last_reload_error,
        'policy_updates': 'enabled' if node.params.enable_policy_updates else 'disabled',
        'policy_artifacts': (node.artifact_receiver.status() if node.artifact_receiver
                             else {'enabled': False}),
        # A lean deploy: with a data artifact neither torch nor training code is loaded.
        'torch_imported': 'torch' in sys.modules,
        'training_imported': 'robotrl_ros.training' in sys.modules,
    }
