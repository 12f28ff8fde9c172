# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``make run``: the project's main job, the best end-to-end piece that exists so far."""

import sys


def main() -> int:
    """Run the main job."""
    print('robotrl_ros main job: the training CLI is not implemented yet; nothing to run.',
          file=sys.stderr)
    return 1


if __name__ == '__main__':
    sys.exit(main())
