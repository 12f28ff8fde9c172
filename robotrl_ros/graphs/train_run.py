# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Train through the ``train_sim`` graph: sim_bridge + policy_node (explore) + trainer_node.

The graph users start (``ros2 launch robotrl_ros train_sim.launch.py`` / ``robotrl up
train_sim``): the same node command lines from ``config/train_sim.yaml`` (:func:`up.plan`), with
the run's parameters (:func:`job_overrides`) on top, printed at the start; the nodes run as one
:class:`~robotrl_ros.graphs.process.ProcessGroup`. Nothing here imports ROS. Used by
``make run``, the end-to-end graph tests and ``benchmarks/train_graph.py`` /
``benchmarks/sim2real.py``::

    result = run_graph(GraphConfig(task='reach', algo='sac', output_dir='runs/graph',
                                   total_steps=20_000))
    result.artifact, result.wall_time_s, result.summary['recent_success_rate']
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robotrl_ros.graphs.process import ProcessGroup, ros_value
from robotrl_ros.graphs.up import find_config, plan

GRAPH = 'train_sim'
#: Grace after SIGINT (the trainer writes its checkpoint and final artifact), SIGTERM, SIGKILL.
STOP_TIMEOUTS_S = (60.0, 10.0, 5.0)


@dataclass
class GraphConfig:
    """One graph training run.

    Attributes:
        task: Task name.
        algo: Algorithm of the trainer.
        output_dir: Trainer output directory (node logs go to ``<output_dir>/logs``).
        total_steps: Transitions the trainer learns from before it exports the final policy.
        seed: Seed of the bridge and the trainer.
        timeout_s: Wall-clock limit; the trainer is then stopped (SIGINT) and keeps what it has.
        config: Trainer hyperparameter YAML ('' = defaults).
        init_policy: Run directory to fine-tune from ('' = from scratch).
        publish_period: Seconds between published policies.
        backpressure: The trainer pauses the lockstep simulator (``sim_bridge/enable``)
            while its learning lags behind the stream, keeping the in-process
            update-to-data ratio on fresh data.
        record_mcap: The trainer records what it observes to ``<output_dir>/recording_*.mcap``.
        episode_reset: ``auto``: the bridge starts the next episode itself (``auto_reset``, one
            state per command kept) and the trainer runs without ``reset_service``;
            ``service``: the trainer ends episodes through ``sim_bridge/reset``.
        robot: Robot of ``locomotion`` / ``ee_reach`` for the bridge and the trainer (built-in
            name or robot YAML path; '' = the task's default).
        bridge: Extra sim_bridge parameters (e.g. ``dr_*`` randomization).
        domain_id: ROS_DOMAIN_ID of the graph (None = inherit the environment's).
    """

    task: str = 'reach'
    algo: str = 'sac'
    output_dir: str = 'runs/graph'
    total_steps: int = 20_000
    seed: int = 0
    timeout_s: float = 600.0
    config: str = ''
    init_policy: str = ''
    publish_period: float = 2.0
    episode_reset: str = 'auto'
    record_mcap: bool = False
    backpressure: bool = True
    robot: str = ''
    bridge: dict[str, Any] = field(default_factory=dict)
    domain_id: int | None = None


@dataclass
class GraphResult:
    """What a graph run produced."""

    artifact: Path | None
    wall_time_s: float
    summary: dict[str, Any]
    timed_out: bool
    logs: Path


def random_domain() -> int:
    """A ROS_DOMAIN_ID unlikely to be in use by other graphs on a shared machine (1..99)."""
    return random.SystemRandom().randint(1, 99)


def job_overrides(cfg: GraphConfig) -> dict[str, dict[str, Any]]:
    """``{node: {parameter: value}}`` the run sets on top of ``config/train_sim.yaml``.

    Raises:
        ValueError: An unknown ``episode_reset``.
    """
    if cfg.episode_reset not in ('auto', 'service'):
        raise ValueError(f"episode_reset must be 'auto' or 'service', got {cfg.episode_reset!r}")
    auto = cfg.episode_reset == 'auto'
    robot = {'robot': cfg.robot} if cfg.robot else {}
    return {
        'sim_bridge': {'task': cfg.task, 'seed': cfg.seed, 'lockstep': True, 'auto_reset': auto,
                       **robot, **cfg.bridge},
        # Updates only from the run directory (the trainer's artifacts).
        'policy_node': {'armed': True, 'explore': True,
                        'trusted_artifact_dirs': [str(Path(cfg.output_dir).resolve())]},
        'trainer_node': {'task': cfg.task, 'algo': cfg.algo, **robot,
                         'output_dir': str(Path(cfg.output_dir).resolve()), 'seed': cfg.seed,
                         'total_steps': cfg.total_steps, 'publish_period': cfg.publish_period,
                         'config': cfg.config, 'init_policy': cfg.init_policy,
                         'reset_service': '' if auto else 'sim_bridge/reset',
                         'record_mcap': cfg.record_mcap,
                         'pause_service': 'sim_bridge/enable' if cfg.backpressure else ''},
    }


def job_sets(cfg: GraphConfig) -> list[str]:
    """The run's overrides as ``robotrl up train_sim --set`` items (``node.param:=value``)."""
    return [f'{node}.{param}:={ros_value(value)}'
            for node, params in job_overrides(cfg).items() for param, value in params.items()]


def graph_commands(cfg: GraphConfig, work_dir: Path) -> dict[str, list[str]]:
    """The train_sim graph's command lines with the run's overrides (``robotrl up``'s plan).

    ``work_dir`` receives the (empty) launch-argument override file of the plan.
    """
    return plan(GRAPH, job_sets(cfg), work_dir).commands


def describe(cfg: GraphConfig) -> str:
    """What the run starts, printed at its start: the graph, its YAML and every override."""
    lines = [f'{GRAPH} graph = {find_config(f"{GRAPH}.yaml")} with these overrides on top '
             f'(as robotrl up {GRAPH} --set ...):']
    lines += [f'  {node}: ' + ' '.join(f'{k}:={ros_value(v)}' for k, v in params.items())
              for node, params in job_overrides(cfg).items()]
    return '\n'.join(lines)


def run_graph(cfg: GraphConfig, progress: Any = None,
              should_stop: Callable[[], bool] | None = None) -> GraphResult:
    """Run the three nodes until the trainer finishes ``total_steps`` or ``timeout_s`` passes.

    Args:
        cfg: The run.
        progress: Stream for the graph and its overrides at the start, then a line every 30 s
            (None = silent).
        should_stop: Polled about every 0.2 s; True stops the trainer early (SIGINT: it still
            writes its checkpoint and final artifact).

    Raises:
        RuntimeError: If a node exits early (its log is named in the message).
        StartError: If a node's executable cannot be started.
    """
    out = Path(cfg.output_dir)
    logs = out / 'logs'
    logs.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1')
    if cfg.domain_id is not None:
        env['ROS_DOMAIN_ID'] = str(cfg.domain_id)
    env.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    if progress is not None:
        print(describe(cfg), file=progress, flush=True)
    group = ProcessGroup(graph_commands(cfg, logs), env=env, log_dir=logs, label=GRAPH,
                         stop_timeouts=STOP_TIMEOUTS_S, await_stop_handlers=True)
    started = time.monotonic()
    clock = {'timed_out': False, 'last_report': started}

    def done() -> bool:
        now = time.monotonic()
        if now - started > cfg.timeout_s:
            clock['timed_out'] = True
            return True
        if progress is not None and now - clock['last_report'] > 30:
            clock['last_report'] = now
            print(f'  graph: {now - started:.0f} s', file=progress, flush=True)
        return should_stop is not None and should_stop()

    with group:
        first = group.run_until(done, poll_s=0.2)
    wall = time.monotonic() - started
    if first is not None and first != 'trainer_node':
        raise RuntimeError(f'{first} exited with code {group.procs[first].returncode}; see '
                           f'{group.log_path(first)}')
    trainer = group.procs['trainer_node'].returncode
    if trainer not in (0, -signal.SIGINT) and not clock['timed_out']:
        raise RuntimeError(f'trainer_node exited with code {trainer}; see '
                           f'{group.log_path("trainer_node")}')
    summary_file = out / 'summary.json'
    summary = json.loads(summary_file.read_text()) if summary_file.is_file() else {}
    artifact = out / 'policy'
    return GraphResult(artifact=artifact if (artifact / 'policy.yaml').is_file() else None,
                       wall_time_s=wall, summary=summary, timed_out=clock['timed_out'],
                       logs=logs)
