# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The sources of one trainer: robots or simulators, each with its own pairing and episodes.

A fleet trainer (``robot_namespaces``) listens to several robot graphs. Each *source* (one
namespace; ``''`` for the single relative source of a plain trainer) has its own
:class:`~.pairing.TransitionPairer` (so episodes, resets and goals never mix) and
:class:`~.base_signals.BaseSignalMatcher`, and keeps what ``~/status`` reports about it:
transitions accepted and their recent rate, episodes and successes, drops, whether it is active,
and the version of the policy it runs (as its policy node reports it).

Joining and leaving: a source that has sent no state for ``timeout`` seconds is marked inactive
(:meth:`SourceSet.expire`): it no longer counts in the rollout, and nothing waits for it. When it
speaks again it rejoins with a fresh pairer, since a restarted simulator starts its stamps anew.

Policy versions: every published artifact is registered (:class:`PolicyVersions`) under its path
and its data version hash, with the learner's update count when it was exported; a source's
policy node reports the hash and path of the policy it runs, which gives the update count each of
its transitions is tagged with (``Transition.policy_version``; -1 = unknown, e.g. an artifact
installed elsewhere and loaded with TorchScript, whose hash covers ``policy.pt`` too).
On-policy segments: on-policy agents learn from contiguous trajectories, so with several sources
each source's transitions are held and released as one contiguous segment at its episode end
(or every :data:`SEGMENT` transitions, or when it leaves); a segment cut before its episode ended
is marked ``cut`` so the agent bootstraps there, as at a truncation: one env per source.
"""

from __future__ import annotations

import re
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from robotrl_ros.policy.artifact import load_artifact
from robotrl_ros.training.online.base_signals import BaseSignalMatcher
from robotrl_ros.training.online.pairing import Transition, TransitionPairer

#: Transitions an on-policy source's segment holds at most before it is released (cut).
SEGMENT = 256
_NAMESPACE = re.compile(r'/?[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*')
#: Seconds over which a source's transition rate is measured.
RATE_WINDOW = 5.0


def check_namespaces(names: list[str]) -> None:
    """Refuse source names that are no ROS namespaces, or repeat (``['']``: the single source).

    Raises:
        ValueError: Naming the bad or repeated namespace.
    """
    if names != ['']:
        for name in names:
            if not _NAMESPACE.fullmatch(name):
                raise ValueError(f'robot_namespaces: {name!r} is not a ROS namespace '
                                 '(letters, digits, _ and /; no token starts with a digit)')
    if not names or len(set(names)) != len(names):
        raise ValueError(f'robot_namespaces must be distinct, got {names}')


class PolicyVersions:
    """Published artifacts by path and version hash -> the learner's update count then.

    Args:
        by_hash: Also load each artifact (as data) for its version hash: robots whose policy
            node installed it under another path are recognized too. Off for a single robot,
            whose learner thread then does no extra work per publish.
    """

    def __init__(self, by_hash: bool = True) -> None:
        self.by_hash = by_hash
        self._by_key: dict[str, int] = {}
        self.newest = -1

    def register(self, updates: int, path: str | Path) -> None:
        """A published artifact at ``path``, exported after ``updates`` learner updates.

        It is known by its path (a policy node given it on ``policy_updates``) and by the
        version hash a policy node reports when it loads the artifact as data (without
        TorchScript); one that cannot be loaded is known by its path only.
        """
        self._by_key[str(Path(path).resolve())] = updates
        if self.by_hash:
            try:
                self._by_key[load_artifact(path).version] = updates
            except (OSError, ValueError):
                pass
        self.newest = max(self.newest, updates)

    def lookup(self, version: str | None, path: str | None) -> int:
        """Update count of the artifact with this hash or path; -1 if it is not one of ours."""
        if version and version in self._by_key:
            return self._by_key[version]
        if path:
            return self._by_key.get(str(Path(path).resolve()), -1)
        return -1

    def too_old_for_on_policy(self, updates: int) -> bool:
        """A transition of policy ``updates`` predates the newest published one (unknown: never).

        An on-policy learner publishes after each update, so its next rollout must come from
        that artifact: data acted by an older one (before the policy node loaded the new one)
        is dropped, as the in-process rollout never holds it.
        """
        return 0 <= updates < self.newest


@dataclass
class Source:
    """One robot or simulator graph feeding the trainer.

    Attributes:
        name: Its namespace ('' = the trainer's own, relative topics).
        pairer: Its transition pairing (episodes, resets, goal).
        base: Its floating-base signal matcher.
        last_seen: Monotonic time of its last state (None = never heard).
        active: Heard from within the timeout.
        joins: How often it joined (first message, or back after a timeout).
        policy_version: Update count of the policy it runs (-1 = unknown).
        policy_hash: Version hash its policy node reports.
        paused: Its simulator is paused by the trainer (backpressure): silent, not gone.
    """

    name: str
    pairer: TransitionPairer
    base: BaseSignalMatcher
    last_seen: float | None = None
    active: bool = False
    joins: int = 0
    accepted: int = 0
    episodes: int = 0
    successes: int = 0
    dropped_old_policy: int = 0
    policy_version: int = -1
    policy_hash: str | None = None
    paused: bool = False
    segment: list[Transition] = field(default_factory=list)
    times: deque[float] = field(default_factory=lambda: deque(maxlen=4096))

    def rate(self, now: float) -> float:
        """Transitions per second accepted over the last :data:`RATE_WINDOW` seconds."""
        while self.times and now - self.times[0] > RATE_WINDOW:
            self.times.popleft()
        return len(self.times) / RATE_WINDOW

    def status(self, now: float) -> dict:
        """Its entry in ``~/status`` ``sources``."""
        return {'active': self.active, 'joins': self.joins, 'accepted': self.accepted,
                'rate_hz': round(self.rate(now), 1), 'episodes': self.episodes,
                'successes': self.successes, 'episode': self.pairer.episode,
                'awaiting_reset': self.pairer.awaiting_reset,
                'drops': {**{k: v for k, v in self.pairer.counters().items()
                             if k.startswith('dropped_')},
                          **({'old_policy': self.dropped_old_policy}
                             if self.dropped_old_policy else {})},
                'pairing': {**self.pairer.counters(), **self.base.counters()},
                'silent_s': None if self.last_seen is None else round(now - self.last_seen, 1),
                'policy_version': self.policy_version, 'policy_hash': self.policy_hash}


class SourceSet:
    """The trainer's sources by name; not thread-safe (the session's lock guards it).

    Args:
        names: Namespaces of the sources (``('',)`` for a single relative source).
        new_pairer: Builds a fresh pairer (with the session's reset setting).
        new_base: Builds a fresh base-signal matcher.
        timeout: Seconds of silence after which a source is inactive (0 = never).
        segments: Release on-policy segments (several sources with an on-policy agent).
        clock: Monotonic seconds.

    Raises:
        ValueError: No names, duplicate names or a negative timeout.
    """

    def __init__(self, names: Iterable[str], new_pairer: Callable[[], TransitionPairer],
                 new_base: Callable[[], BaseSignalMatcher], timeout: float = 0.0,
                 segments: bool = False, clock: Callable[[], float] = time.monotonic) -> None:
        names = list(names)
        check_namespaces(names)
        if not timeout >= 0.0:
            raise ValueError(f'source_timeout must be >= 0 s, got {timeout}')
        self._new_pairer, self._new_base = new_pairer, new_base
        self.timeout, self.segments, self.clock = float(timeout), segments, clock
        self.by_name = {name: Source(name, new_pairer(), new_base()) for name in names}

    def __getitem__(self, name: str) -> Source:
        return self.by_name[name]

    def __iter__(self):
        return iter(self.by_name.values())

    def heard(self, name: str) -> Source:
        """A state of source ``name`` arrived: it is active (joining or rejoining).

        Only states count: a policy node whose robot died may still publish hold commands.
        """
        source = self.by_name[name]
        now = self.clock()
        if not source.active:
            if source.joins:  # back after a timeout: a restarted simulator restarts its stamps
                use_resets = source.pairer.use_resets
                source.pairer, source.base = self._new_pairer(), self._new_base()
                if not use_resets:
                    source.pairer.stop_using_resets()
            source.active, source.joins = True, source.joins + 1
        source.last_seen = now
        return source

    def accept(self, source: Source, tr: Transition) -> list[Transition]:
        """Tag a paired transition with its source and policy; what to queue for learning now."""
        tr = replace(tr, source=source.name, policy_version=source.policy_version)
        source.accepted += 1
        source.times.append(self.clock())
        if tr.done:
            source.episodes += 1
            source.successes += int(tr.success)
        if not self.segments:
            return [tr]
        source.segment.append(tr)
        if tr.done or len(source.segment) >= SEGMENT:
            return self._release(source)
        return []

    def _release(self, source: Source) -> list[Transition]:
        segment, source.segment = source.segment, []
        if segment and not segment[-1].done:
            segment[-1] = replace(segment[-1], cut=True)
        return segment

    def set_paused(self, name: str, paused: bool) -> None:
        """The trainer paused (or resumes) ``name``'s simulator.

        A paused source never expires; its silence is counted again from its resume.
        """
        source = self[name]
        source.paused = paused
        if not paused and source.last_seen is not None:
            source.last_seen = max(source.last_seen, self.clock())

    def expire(self) -> tuple[list[str], list[Transition]]:
        """Mark sources silent for ``timeout`` inactive; their held segments are released.

        A source the trainer paused is silent by request and stays.

        Returns:
            The names that just left, and the transitions to queue.
        """
        left, released = [], []
        if self.timeout <= 0.0:
            return left, released
        now = self.clock()
        for source in self:
            if source.active and not source.paused and now - source.last_seen > self.timeout:
                source.active = False
                left.append(source.name)
                released += self._release(source)
        return left, released

    def totals(self) -> dict:
        """``pairing`` counters summed over the sources, ``episode`` and ``awaiting_reset``."""
        pairing: Counter[str] = Counter()
        for source in self:
            pairing.update({**source.pairer.counters(), **source.base.counters()})
        return {'pairing': dict(pairing),
                'episode': sum(source.pairer.episode for source in self),
                'awaiting_reset': any(source.pairer.awaiting_reset for source in self)}

    def status(self) -> dict[str, dict]:
        """``{name: status}`` of every source."""
        now = self.clock()
        return {source.name: source.status(now) for source in self}
