# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The product's main job: train ``reach`` through the ROS graph, evaluate, deploy briefly.

1. Train: the ``train_sim`` graph (``config/train_sim.yaml`` with the run's overrides, printed)
   until a published policy reaches the target success rate (evaluated here on fixed episodes)
   or the wall-clock budget is spent.
2. Evaluate the final artifact with ``robotrl eval`` (the CLI, as a user would).
3. Deploy: the ``sim_eval`` graph (sim_bridge + policy_node, ``explore: false``) running that
   artifact, with the ``episode_monitor`` node reporting the success rate the deployed policy
   reaches on the graph.

Pure Python: the ROS parts run as processes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from robotrl_ros.graphs.artifact_watcher import ArtifactWatcher
from robotrl_ros.graphs.process import last_json_line, run_to_completion
from robotrl_ros.graphs.train_run import GraphConfig, random_domain, run_graph
from robotrl_ros.graphs.up import plan

TASK = 'reach'
CONFIRM_TARGET = 0.98  # success on 100 held-out episodes before the run stops


def train_through_graph(out: Path, algo: str = 'sac', budget_s: float = 600.0,
                        target: float = 0.95, seed: int = 0, max_steps: int = 100_000,
                        progress: TextIO | None = None) -> dict[str, Any]:
    """Train through the graph until ``target`` success or ``budget_s``; returns the facts."""
    if out.exists():
        shutil.rmtree(out)
    # Stop on a policy that reaches the target on 50 fixed episodes *and* CONFIRM_TARGET on 100
    # held-out ones: the margin makes `robotrl eval` on fresh episodes agree with the stop.
    watcher = ArtifactWatcher(out, TASK, target, period=10.0, episodes=50, confirm_episodes=100,
                              confirm_target=max(target, CONFIRM_TARGET))
    cfg = GraphConfig(task=TASK, algo=algo, output_dir=str(out), total_steps=max_steps,
                      seed=seed, timeout_s=budget_s, publish_period=3.0,
                      domain_id=random_domain())
    result = run_graph(cfg, progress=progress, should_stop=watcher)
    artifact = result.artifact
    if watcher.reached is not None:
        # The published policy that reached the target (the trainer kept learning a moment).
        artifact = out / 'policy_reached'
        shutil.copytree(watcher.reached['path'], artifact)
    return {'artifact': str(artifact) if artifact else None,
            'wall_s': round(result.wall_time_s, 1), 'reached': watcher.reached,
            'best': watcher.best(), 'transitions': result.summary.get('transitions'),
            'updates': result.summary.get('updates'), 'curve': watcher.curve}


def robotrl_eval(artifact: str, episodes: int = 100, seed: int = 12_345) -> dict[str, Any]:
    """``robotrl eval`` on the artifact; its JSON line."""
    robotrl = Path(sys.executable).parent / 'robotrl'
    base = [str(robotrl)] if robotrl.exists() else [sys.executable, '-m',
                                                    'robotrl_ros.cli']
    proc = subprocess.run([*base, 'eval', '--policy', artifact, '--task', TASK, '--episodes',
                           str(episodes), '--seed', str(seed)], capture_output=True, text=True,
                          timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f'robotrl eval failed: {proc.stderr[-2000:]}')
    return json.loads(proc.stdout.strip().splitlines()[-1])


def deploy_run(artifact: str, episodes: int = 20, timeout_s: float = 180.0) -> dict[str, Any]:
    """Run the artifact on the simulated robot through the graph; measured success rate.

    The ``sim_eval`` graph (``config/sim_eval.yaml``, as ``robotrl up sim_eval``) plus the
    ``episode_monitor`` node, run to completion: the monitor exits after ``episodes`` episodes,
    which stops the graph.

    Raises:
        RuntimeError: A node exited before the monitor, or the monitor failed (log named).
    """
    env = dict(os.environ, ROS_DOMAIN_ID=str(random_domain()), OMP_NUM_THREADS='1',
               ROS_AUTOMATIC_DISCOVERY_RANGE='LOCALHOST')
    sets = [f'policy_path:={artifact}', f'task:={TASK}', 'seed:=7',
            'sim_bridge.status_period:=0.2']
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix='deploy_run_') as tmp:
        commands = dict(plan('sim_eval', sets, Path(tmp)).commands)
        commands['episode_monitor'] = [sys.executable, '-m', 'robotrl_ros.nodes.episode_monitor',
                                       '--episodes', str(episodes), '--timeout', str(timeout_s)]
        try:
            output = run_to_completion(commands, 'episode_monitor', timeout_s + 60, env=env,
                                       label='deploy run', stop_timeouts=(15.0, 5.0, 5.0))
        except RuntimeError as exc:
            raise RuntimeError(f'deploy run: {exc}') from exc
    result = last_json_line(output)
    result['wall_s'] = round(time.monotonic() - started, 1)
    return result


def run_product(out: Path, algo: str = 'sac', budget_s: float = 600.0, seed: int = 0,
                progress: TextIO | None = None) -> dict[str, Any]:
    """Train through the graph, ``robotrl eval`` the final artifact, then a short deploy run."""
    report: dict[str, Any] = {'task': TASK, 'algo': algo, 'budget_s': budget_s}
    report['train'] = train_through_graph(out, algo, budget_s, seed=seed, progress=progress)
    artifact = report['train']['artifact']
    if artifact is None:
        raise RuntimeError(f'the graph run produced no artifact; see {out / "logs"}')
    report['eval'] = robotrl_eval(artifact)
    report['deploy'] = deploy_run(artifact)
    return report
