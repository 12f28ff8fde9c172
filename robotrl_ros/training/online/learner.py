# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The online learner: feeds observed transitions to an agent, updates it, persists, exports.

It is the pure-Python heart of the trainer node (and of replay-from-MCAP training)::

    learner = OnlineLearner(agent, spec, run_dir, algo='sac')
    learner.resume()                      # last checkpoint + transitions logged after it
    learner.add(transition)               # from TransitionPairer
    learner.sync()                        # fsync the log: these transitions are now "stored"
    learner.train(max_calls=1)            # the updates that are due
    learner.checkpoint(); learner.export(out_dir)

Off-policy agents (SAC, DQN) count the gradient steps they are owed themselves, so however far
the learner lags behind the graph, the update-to-data ratio matches in-process training.
On-policy agents (PPO, REINFORCE) update as soon as their rollout is complete (at the latest
when the next transition arrives).
The learner is not thread-safe: the node serializes calls with a lock.
"""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
import torch

from robotrl_ros.agents.base import Agent
from robotrl_ros.policy.export import export_artifact
from robotrl_ros.tasks.robots import RobotModel
from robotrl_ros.tasks.spec import TaskSpec
from robotrl_ros.training.online.pairing import Transition
from robotrl_ros.training.online.store import TransitionLog, load_checkpoint, save_checkpoint

ON_POLICY = frozenset({'ppo', 'reinforce'})
_COUNTERS = ('transitions', 'updates', 'episodes', 'successes')


class OnlineLearner:
    """Learn from a stream of transitions with durable storage.

    Args:
        agent: The agent (from ``make_agent``).
        spec: Task spec (row layout of the log, artifact metadata).
        run_dir: Output directory: ``transitions.log``, ``online_checkpoint.pt``.
        algo: Algorithm name (on-policy or off-policy scheduling, artifact metadata).
        return_window: Finished episodes averaged in :meth:`status`.
        robot: The robot model of a task on a robot file (recorded in exported artifacts).
    """

    def __init__(self, agent: Agent, spec: TaskSpec, run_dir: str | Path, *, algo: str,
                 return_window: int = 20, robot: RobotModel | None = None) -> None:
        self.agent = agent
        self.spec = spec
        self.robot = robot
        self.algo = algo
        self.run_dir = Path(run_dir)
        self.log = TransitionLog(self.run_dir, spec)
        self.counters = dict.fromkeys(_COUNTERS, 0)
        self.recent: deque[tuple[float, bool]] = deque(maxlen=return_window)
        self.episode_return = 0.0
        self.episode = -1
        self._returns: dict[str, tuple[int, float]] = {}   # fleet sources: (episode, return)
        self.last_metrics: dict[str, float] = {}
        self.started = time.monotonic()

    # --- data ------------------------------------------------------------------------------
    def add(self, tr: Transition) -> None:
        """Learn from ``tr`` and append it to the log (stored once :meth:`sync` returns)."""
        self._feed(tr)
        self.log.append(tr)

    def sync(self) -> int:
        """Make every added transition durable; returns the stored count."""
        return self.log.sync()

    @property
    def stored(self) -> int:
        """Transitions durably stored (safe to report)."""
        return self.log.stored

    def _feed(self, tr: Transition) -> None:
        if self.algo in ON_POLICY and self.agent.ready():
            self._update()  # a full rollout must be learned from before it takes more data
        if tr.action_index is not None and self.agent.discrete:
            action = np.array([tr.action_index], dtype=np.int64)
        elif tr.sample is not None and self.algo in ON_POLICY:
            # The policy's sample before its clamp: scored by its density, as in process (the
            # executed action alone is scored by the tail mass of the clamped dimensions).
            action = np.asarray(tr.sample, dtype=np.float32)[None]
        else:
            action = np.asarray(tr.action, dtype=np.float32)[None]
        # A cut on-policy segment ends like a truncation for the agent (it bootstraps there).
        self.agent.observe(tr.obs[None], action, np.array([tr.reward], np.float32),
                           tr.next_obs[None], np.array([tr.terminated]),
                           np.array([tr.truncated or tr.cut]))
        self.counters['transitions'] += 1
        if tr.source:   # a fleet source: its episodes interleave with the others'
            self._returns[tr.source] = self._track(tr, *self._returns.get(tr.source, (-1, 0.0)))
        else:
            self.episode, self.episode_return = self._track(tr, self.episode,
                                                            self.episode_return)

    def _track(self, tr: Transition, episode: int, episode_return: float) -> tuple[int, float]:
        """One source's running episode return after ``tr``; counts finished episodes."""
        if tr.episode != episode:
            # A new episode began without a final transition (e.g. cut by a new goal).
            episode, episode_return = tr.episode, 0.0
        episode_return += tr.reward
        if tr.done:
            self.counters['episodes'] += 1
            self.counters['successes'] += int(tr.success)
            self.recent.append((episode_return, tr.success))
            episode_return = 0.0
        return episode, episode_return

    # --- learning --------------------------------------------------------------------------
    def train(self, max_calls: int) -> int:
        """Call ``agent.update()`` while it is due, at most ``max_calls`` times.

        Off-policy agents keep their own update credit (``updates_per_step`` per observed
        transition after ``learning_starts``), and one call runs every gradient step owed, so
        a learner that lags behind the stream catches up exactly: the update-to-data ratio is
        the same as in-process.

        Returns:
            Number of ``update()`` calls.
        """
        done = 0
        while done < max_calls and self.agent.ready():
            self._update()
            done += 1
        return done

    def _update(self) -> None:
        self.last_metrics = self.agent.update()
        self.counters['updates'] += 1

    # --- persistence -----------------------------------------------------------------------
    def checkpoint(self) -> Path:
        """Atomically save agent state (networks, optimizers, buffers) and counters."""
        self.sync()
        payload: dict[str, Any] = {
            'agent': self.agent.state_dict(),
            'counters': dict(self.counters),
            'episode_return': float(self.episode_return),
            'recent_returns': [float(r) for r, _ in self.recent],
            'recent_success': [bool(s) for _, s in self.recent],
            'algo': self.algo, 'task': self.spec.name,
        }
        return save_checkpoint(self.run_dir, payload)

    def resume(self) -> int:
        """Restore the last checkpoint, then re-feed transitions logged after it.

        Returns:
            Number of logged transitions re-fed (0 for a fresh run directory).

        Raises:
            ValueError: If the checkpoint belongs to another task or algorithm.
        """
        state = load_checkpoint(self.run_dir)
        start = 0
        if state is not None:
            for key, mine in (('task', self.spec.name), ('algo', self.algo)):
                if state.get(key) != mine:
                    raise ValueError(f'{self.run_dir}: checkpoint was written for {key} '
                                     f'{state.get(key)!r}, this run uses {mine!r}; use another '
                                     'output_dir')
            self.agent.load_state_dict(state['agent'])
            self.counters.update({k: int(v) for k, v in state['counters'].items()})
            self.episode_return = float(state['episode_return'])
            self.recent.extend(zip(state['recent_returns'], state['recent_success'], strict=True))
            start = self.counters['transitions']
        replay = self.log.read(start)
        for tr in replay:
            self._feed(tr)
        return len(replay)

    def export(self, out_dir: str | Path, provenance: dict[str, Any] | None = None) -> Path:
        """Export the current policy as an artifact (atomic: written aside, then renamed)."""
        facts = {'trained_by': 'trainer_node', 'transitions': self.counters['transitions'],
                 'updates': self.counters['updates'], **(provenance or {})}
        return export_artifact(self.agent.policy_module(), self.spec, out_dir,
                               algorithm=self.algo, provenance=facts, robot=self.robot)

    # --- reporting -------------------------------------------------------------------------
    def learning_rate(self) -> float | None:
        """Learning rate of the agent's first optimizer, if it has one."""
        for value in vars(self.agent).values():
            if isinstance(value, torch.optim.Optimizer):
                return float(value.param_groups[0]['lr'])
        return None

    def status(self) -> dict[str, Any]:
        """Counters and recent performance for ``~/status``."""
        returns = [r for r, _ in self.recent]
        success = [s for _, s in self.recent]
        return {
            'transitions': self.counters['transitions'],
            'transitions_stored': self.log.stored,
            'updates': self.counters['updates'],
            'episodes': self.counters['episodes'],
            'replay_size': _replay_size(self.agent),
            'recent_return': float(np.mean(returns)) if returns else None,
            'recent_success_rate': float(np.mean(success)) if success else None,
            'learning_rate': self.learning_rate(),
            'losses': {k: float(v) for k, v in self.last_metrics.items()},
        }

    def close(self) -> None:
        """Sync and close the log."""
        self.log.close()


def _replay_size(agent: Agent) -> int | None:
    for value in vars(agent).values():
        if hasattr(value, 'capacity') and hasattr(value, 'size'):
            return int(value.size)
    return None
