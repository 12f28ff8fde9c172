# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""episode_monitor: report the success rate a deployed policy reaches on a simulated robot.

Listens to the sim bridge's ``~/status`` JSON and, once ``--episodes`` more episodes finished
than when it started, prints one JSON line ``{"episodes": n, "success_rate": s,
"mean_return": r}`` (the bridge's window of recent episodes) and exits 0; exits 1 on timeout.
Used by ``make run`` for the short deploy run::

    python -m robotrl_ros.nodes.episode_monitor --episodes 20 --timeout 120
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import rclpy
from rclpy.executors import ExternalShutdownException
from std_msgs.msg import String


def main(argv: list[str] | None = None) -> int:
    """Wait for ``--episodes`` finished episodes on ``--status-topic``; print their summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--episodes', type=int, default=20, help='episodes to wait for (<= 20)')
    parser.add_argument('--timeout', type=float, default=120.0, help='seconds before giving up')
    parser.add_argument('--status-topic', default='sim_bridge/status')
    args = parser.parse_args(argv)
    if not 1 <= args.episodes <= 20:
        print('episode_monitor: --episodes must be 1..20 (the bridge reports the last 20)',
              file=sys.stderr)
        return 2
    rclpy.init()
    node = rclpy.create_node('episode_monitor')
    latest: list[dict] = []
    node.create_subscription(String, args.status_topic,
                             lambda msg: latest.append(json.loads(msg.data)), 10)
    start: int | None = None
    deadline = time.monotonic() + args.timeout
    try:
        while time.monotonic() < deadline:
            rclpy.spin_once(node, timeout_sec=0.1)
            if not latest:
                continue
            status = latest[-1]
            done = int(status.get('finished_episodes', 0))
            if start is None:
                start = done
            if done - start >= args.episodes:
                print(json.dumps({'episodes': done - start,
                                  'success_rate': status.get('recent_success_rate'),
                                  'mean_return': status.get('recent_return')}), flush=True)
                return 0
    except (KeyboardInterrupt, ExternalShutdownException):
        return 1
    finally:
        node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
    print(f'episode_monitor: fewer than {args.episodes} episodes finished within '
          f'{args.timeout} s', file=sys.stderr)
    return 1


if __name__ == '__main__':
    sys.exit(main())
