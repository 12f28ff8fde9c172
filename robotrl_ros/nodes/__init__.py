# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""rclpy nodes: sim bridge, policy node, trainer node (thin: logic lives in the layers below).

Started as an executable (``policy_node``, ``python -m robotrl_ros.nodes.policy_node``, ...),
the process turns SIGINT/SIGTERM into a stop request from here on, before the node module's own
imports, so a signal during start-up also ends with exit code 0 (robotrl_ros.ros.node_runner).
"""

import sys

from robotrl_ros.ros.stop_request import install_if_node_process

install_if_node_process(getattr(sys, 'orig_argv', sys.argv))
