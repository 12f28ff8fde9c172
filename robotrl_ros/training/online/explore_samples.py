# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Match an exploring policy node's samples to the commands they became.

A Gaussian policy's sample is clamped to [-1, 1] before it becomes a command; the policy node
publishes the sample on ``policy_node/explore_sample`` just before the command, on its own topic,
so an executor may deliver it before or after the command. A sample belongs to the command whose
action it clamps to (a continuous sample never matches another command by chance): on-policy
agents then score the sample, as in process, rather than the clamped action
(docs/trainer.md). Pure Python, used by :class:`~.pairing.TransitionPairer`.
"""

from __future__ import annotations

from collections import Counter, deque

import numpy as np

#: Largest difference between a clamped sample and the action its command maps back to.
SAMPLE_TOLERANCE = 1e-6
#: Samples kept waiting for their command (older ones belong to commands already paired).
SAMPLES_WAITING = 4


def clamps_to(sample: np.ndarray, action: np.ndarray) -> bool:
    """Whether ``sample`` clamped to [-1, 1] is ``action`` (within :data:`SAMPLE_TOLERANCE`)."""
    return sample.shape == action.shape and float(
        np.max(np.abs(np.clip(sample, -1.0, 1.0) - action))) <= SAMPLE_TOLERANCE


class SampleMatcher:
    """Samples waiting for their command, and the counts ``samples_*`` of the pairing.

    Args:
        action_dim: Length of a sample (the task's action).
    """

    def __init__(self, action_dim: int) -> None:
        self.action_dim = action_dim
        self.counts: Counter[str] = Counter()
        self._waiting: deque[np.ndarray] = deque(maxlen=SAMPLES_WAITING)

    def receive(self, sample: np.ndarray) -> np.ndarray | None:
        """A validated copy of ``sample``, or None (wrong length or not finite: counted)."""
        sample = np.asarray(sample, dtype=np.float64).reshape(-1).copy()
        if sample.shape != (self.action_dim,) or not bool(np.all(np.isfinite(sample))):
            self.counts['invalid'] += 1
            return None
        self.counts['received'] += 1
        return sample

    def joins(self, sample: np.ndarray, action: np.ndarray) -> bool:
        """Whether ``sample`` belongs to the already received command of ``action``."""
        if clamps_to(sample, action):
            self.counts['matched'] += 1
            return True
        return False

    def wait(self, sample: np.ndarray) -> None:
        """Keep ``sample`` for its command, still to come."""
        self._waiting.append(sample)

    def take(self, action: np.ndarray) -> np.ndarray | None:
        """The waiting sample of the command of ``action`` (older ones dropped), or None."""
        for i, sample in enumerate(self._waiting):
            if clamps_to(sample, action):
                for _ in range(i + 1):
                    self._waiting.popleft()
                self.counts['matched'] += 1
                return sample
        return None

    def missed(self) -> None:
        """A transition completed without its sample (counted once samples flow)."""
        if self.counts['received']:
            self.counts['missing'] += 1

    def counters(self) -> dict[str, int]:
        """``samples_received``, ``samples_matched``, ``samples_missing``, ``samples_invalid``."""
        return {f'samples_{k}': v for k, v in self.counts.items()}
