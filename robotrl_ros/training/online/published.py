# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The artifacts a training session exports, and the policy version each stands for.

Each improved policy is exported to ``policies/policy_<updates>`` (the newest
:data:`KEEP_PUBLISHED` kept) and registered with :class:`~.sources.PolicyVersions`, so the
transitions of a robot running it are tagged with its update count; the final policy goes to
``policy/``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from robotrl_ros.training.online.learner import OnlineLearner
from robotrl_ros.training.online.sources import PolicyVersions

PUBLISHED_DIR = 'policies'
FINAL_DIR = 'policy'
KEEP_PUBLISHED = 3


class PublishedArtifacts:
    """Exports of one learner under run directory ``out`` (the learning side calls it).

    Args:
        learner: The learner whose policy is exported.
        out: Run directory.
        versions: Where each published artifact is registered.
        provenance: The metadata each export records (task, seed, recent return ...).
    """

    def __init__(self, learner: OnlineLearner, out: Path, versions: PolicyVersions,
                 provenance: Callable[[], dict[str, Any]]) -> None:
        self.learner, self.out, self.versions = learner, out, versions
        self._provenance = provenance
        self.paths: list[Path] = []     # the kept ones, oldest first
        self._updates = -1              # the learner's updates at the last export

    def improved(self) -> bool:
        """Whether the agent was updated since the last exported artifact."""
        return self.learner.counters['updates'] != self._updates

    def publish(self) -> Path:
        """Export the current policy to ``policies/policy_<updates>``; drop the oldest."""
        updates = self.learner.counters['updates']
        path = self.learner.export(self.out / PUBLISHED_DIR / f'policy_{updates:08d}',
                                   self._provenance())
        self._updates = updates
        self.versions.register(updates, path)
        self.paths.append(path)
        for old in self.paths[:-KEEP_PUBLISHED]:
            shutil.rmtree(old, ignore_errors=True)
        del self.paths[:-KEEP_PUBLISHED]
        return path

    def final(self) -> Path:
        """Export the final policy to ``policy/``."""
        path = self.learner.export(self.out / FINAL_DIR, self._provenance())
        self._updates = self.learner.counters['updates']
        return path
