# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The random streams an agent owns, seeded once and saved in checkpoints for exact resume."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import torch


class AgentRng:
    """A NumPy generator (exploration, minibatches) and a torch generator (sampling, init).

    Args:
        seed: Seed of both streams.
    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self.np = np.random.default_rng(self.seed)
        self.torch = torch.Generator().manual_seed(self.seed)

    def state_dict(self) -> dict[str, Any]:
        """Both generator states (JSON string and byte tensor: ``weights_only``-loadable)."""
        return {'numpy': json.dumps(self.np.bit_generator.state),
                'torch': self.torch.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`."""
        self.np.bit_generator.state = json.loads(state['numpy'])
        self.torch.set_state(state['torch'])
