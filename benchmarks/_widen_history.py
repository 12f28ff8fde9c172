# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Warm-start a PPO checkpoint into an observation with more history (``ObsTerm.history``).

The A1 DR policy of ``sim2real_a1`` sees its last three actions (``env: {obs_history:
{last_action: 3}}``); it continues the nominal policy, which saw one. This helper writes the
nominal run's checkpoint for the wider observation: every input it had keeps its weights, the
new ones (the older steps of a term) start with zero weights, so the widened policy acts exactly
as the original until training moves them; their normalizer statistics copy the term's current
step. Then ``robotrl train --init-policy OUT.pt --config <config with obs_history>``::

    .venv/bin/python benchmarks/_widen_history.py RUN/checkpoints/last.pt
        --policy RUN/policy --obs-history last_action=3 --out widened.pt

PPO with an MLP actor and critic only (``policy.mean_net.0``, ``critic.0``).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import torch

from robotrl_ros.policy.artifact import load_artifact
from robotrl_ros.tasks.spec import TaskSpec

#: Agent-state tensors whose last dimension is the observation: input weights (new inputs
#: get zeros) and normalizer statistics (new inputs copy their term's current step).
INPUT_WEIGHTS = (('policy', 'mean_net.0.weight'), ('critic', '0.weight'))
STATISTICS = (('policy', 'normalizer.mean'), ('policy', 'normalizer.var'),
              ('obs_rms', 'mean'), ('obs_rms', 'var'))


def source_index(old: TaskSpec, new: TaskSpec) -> tuple[np.ndarray, np.ndarray]:
    """For each entry of ``new``'s observation, the ``old`` entry it copies, and whether new.

    An entry of a step ``old`` also had takes that entry; an older step ``old`` lacked takes
    the term's current step (flagged new).

    Raises:
        ValueError: The terms differ beyond their history, or ``new`` has less of one.
    """
    strip = [dataclasses.replace(t, history=1) for t in old.observation]
    if strip != [dataclasses.replace(t, history=1) for t in new.observation]:
        raise ValueError('widen: the observations differ in more than history: '
                         f'{old.observation} vs {new.observation}')
    source, fresh, old_start = [], [], 0
    for old_term, new_term in zip(old.observation, new.observation, strict=True):
        if new_term.history < old_term.history:
            raise ValueError(f'widen: term {new_term.name!r} has history {new_term.history} < '
                             f'{old_term.history}: this only widens')
        for age in range(new_term.history):
            block = old_start + (age if age < old_term.history else 0) * old_term.size
            source.extend(range(block, block + old_term.size))
            fresh.extend([age >= old_term.history] * old_term.size)
        old_start += old_term.size * old_term.history
    return np.asarray(source), np.asarray(fresh)


def widen_state(agent: dict, source: np.ndarray, fresh: np.ndarray) -> dict:
    """``agent`` (a PPO agent state) for the wider observation (see the module docstring)."""
    index, mask = torch.from_numpy(source), torch.from_numpy(fresh)

    def widen(value: torch.Tensor, zero_fresh: bool) -> torch.Tensor:
        out = value[..., index].clone()
        if zero_fresh:
            out[..., mask] = 0.0
        return out

    for part, key in INPUT_WEIGHTS:
        agent[part][key] = widen(agent[part][key], zero_fresh=True)
    for part, key in STATISTICS:
        agent[part][key] = widen(torch.as_tensor(agent[part][key]), zero_fresh=False)
    n_old = len(fresh) - int(fresh.sum())
    for state in agent['optimizer']['state'].values():     # Adam moments of input weights
        for key in ('exp_avg', 'exp_avg_sq'):
            if key in state and state[key].ndim == 2 and state[key].shape[-1] == n_old:
                state[key] = widen(state[key], zero_fresh=True)
    return agent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('checkpoint', type=Path, help='the run\'s checkpoints/last.pt')
    parser.add_argument('--policy', type=Path, required=True, help='the run\'s policy/ (spec)')
    parser.add_argument('--obs-history', action='append', default=[], metavar='TERM=H')
    parser.add_argument('--out', type=Path, required=True)
    args = parser.parse_args(argv)
    old = load_artifact(args.policy, allow_torchscript=True).spec
    history = {}
    for item in args.obs_history:
        name, _, count = item.partition('=')
        history[name] = int(count)
    unknown = set(history) - {t.name for t in old.observation}
    if unknown:
        parser.error(f'--obs-history: no term {sorted(unknown)} in {args.policy}')
    new = dataclasses.replace(old, observation=tuple(
        dataclasses.replace(t, history=history.get(t.name, t.history)) for t in old.observation))
    payload = torch.load(args.checkpoint, map_location='cpu', weights_only=True)
    source, fresh = source_index(old, new)
    torch.save({'agent': widen_state(payload['agent'], source, fresh)}, args.out)
    print(f'{args.checkpoint} ({old.obs_dim} inputs) -> {args.out} ({new.obs_dim} inputs)')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
