# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The rows of ``sim2real.py``: tasks, "real robots" (shifted simulators) and budgets.

Also the trainer node's ``config`` for a fine-tune through the graph (:func:`finetune_config`):
the nominal run's reward and agent settings with the fine-tune's overrides on top.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from robotrl_ros.tasks.randomization import SHIFTED

TASK = 'reach_last_action'
EVAL_SEED = 20_000
#: Seed of the evaluations that choose the DR policy among a DR run's snapshots.
VALIDATION_SEED = 30_000
#: Training distribution of the DR policy: a little wider than the shift it must survive.
DR_TRAIN = {'mass_scale': [0.6, 1.4], 'friction_scale': [0.4, 1.6], 'latency_steps': [0, 3],
            'obs_noise_std': 0.01}
#: The "real robots": the issue's ranges drawn per episode, their hardest corner (heavy,
#: slippery, slowest; found by evaluating the nominal policy at the corners), and a harsher
#: robot beyond the issue's latency range.
ROBOTS = {
    'shifted': SHIFTED.to_dict(),
    'worst': {'mass_scale': [1.3, 1.3], 'friction_scale': [0.5, 0.5], 'latency_steps': [3, 3],
              'obs_noise_std': 0.01},
    'harsh': {'mass_scale': [0.7, 1.3], 'friction_scale': [0.5, 1.5], 'latency_steps': [3, 5],
              'obs_noise_std': 0.02},
}
#: The A1 row (issue 16): friction x0.5-1.5, mass +-20 % (every body, the base included),
#: motor strength +-20 % (the servos' whole force law), 1-2 control periods of latency.
A1_SHIFT = {'mass_scale': [0.8, 1.2], 'friction_scale': [0.5, 1.5], 'gain_scale': [0.8, 1.2],
            'latency_steps': [1, 2], 'obs_noise_std': 0.0}
#: The A1's DR policy continues the nominal run on this distribution (a little wider).
A1_DR_TRAIN = {'mass_scale': [0.75, 1.25], 'friction_scale': [0.4, 1.6],
               'gain_scale': [0.75, 1.25], 'latency_steps': [0, 2], 'obs_noise_std': 0.0}
#: Trainer hyperparameters of the A1 fine-tune through the graph (one robot, on-policy), on top
#: of the nominal run's (its learning rate, 1e-3 for the one-robot policy, is kept: with 5e-4 the
#: in-process fine-tune on the worst robot recovered less, 0.58 against 0.72 after 262,144 steps).
A1_FINETUNE_HPARAMS = {'agent': {'n_steps': 2048}}


@dataclass(frozen=True)
class Setup:
    """One row of the benchmark: task, "real robots" and training budget.

    Attributes:
        task: Task name.
        algo: Algorithm of every policy of the row.
        results: File stem in ``benchmarks/results`` (``.json`` and ``.md``).
        dr_train: Training distribution of the DR policy.
        robots: The "real robots" (randomization dicts); ``worst`` may be found at run time.
        env: ``make_env`` arguments besides ``randomization`` (e.g. ``robot``).
        corners: Ranges whose corners are searched for the worst-case robot with the nominal
            policy (``robots['worst']`` is then the corner where it succeeds least).
        steps: Training steps per policy (DR: steps of the continuation with ``--init-run``).
        episodes: Evaluation episodes per robot.
        finetune_steps: Transitions budget of the fine-tune.
        finetune_hparams: Trainer hyperparameter overrides for the fine-tune ('' = defaults).
    """

    task: str
    algo: str
    results: str
    dr_train: dict[str, Any]
    robots: dict[str, dict[str, Any]]
    env: dict[str, Any] = field(default_factory=dict)
    corners: dict[str, Any] | None = None
    steps: int = 40_000
    episodes: int = 100
    finetune_steps: int = 20_000
    finetune_hparams: dict[str, Any] = field(default_factory=dict)


REACH = Setup(task=TASK, algo='sac', results='sim2real', dr_train=DR_TRAIN, robots=ROBOTS)
A1 = Setup(task='locomotion', algo='ppo', results='sim2real_a1', dr_train=A1_DR_TRAIN,
           robots={'shifted': A1_SHIFT}, env={'robot': 'a1'}, corners=A1_SHIFT,
           steps=2_000_000, episodes=50, finetune_steps=200_000,
           finetune_hparams=A1_FINETUNE_HPARAMS)


def setup_for(task: str, algo: str | None) -> Setup:
    """The A1 row for ``locomotion``, else the reach row on ``task``."""
    base = A1 if task == 'locomotion' else replace(REACH, task=task)
    return replace(base, algo=algo or base.algo)


#: ``env:`` entries of a run's config that configure the simulator, not the reward the trainer
#: scores with (the robot is the trainer node's own ``robot`` parameter).
SIMULATOR_ONLY = ('randomization', 'robot')


def finetune_config(run_config: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The trainer node's ``config`` for fine-tuning a run's policy through the graph.

    The run's ``env`` options (its reward: ``reward_weights``, ``cmd_ranges``; without the
    simulator-only :data:`SIMULATOR_ONLY`) and its ``agent`` settings, with ``overrides``
    (section by section) on top: transitions are scored with the reward the policy was trained
    with, not the task's default one.

    Args:
        run_config: The run's ``config.yaml`` (``robotrl train`` writes it; ``{}`` if none).
        overrides: The fine-tune's own settings, e.g. ``{'agent': {'n_steps': 2048}}``.

    Raises:
        ValueError: ``run_config`` or one of its ``env``/``agent`` sections is not a mapping.
    """
    if not isinstance(run_config, dict):
        raise ValueError(f'run config must be a mapping, got {type(run_config).__name__}')
    sections = {}
    for key in ('env', 'agent'):
        value = run_config.get(key) or {}
        if not isinstance(value, dict):
            raise ValueError(f'run config section {key!r} must be a mapping, '
                             f'got {type(value).__name__}')
        sections[key] = dict(value)
    for key in SIMULATOR_ONLY:
        sections['env'].pop(key, None)
    for key, value in overrides.items():
        if key in sections and isinstance(value, dict):
            sections[key] = {**sections[key], **value}
        else:
            sections[key] = value
    return {key: value for key, value in sections.items() if value != {}}
