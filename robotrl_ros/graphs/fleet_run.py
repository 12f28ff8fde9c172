# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Train through the ``fleet_sim`` graph: many robots feed one trainer, joining and dying.

n robots (sim_bridge + exploring policy_node) feed one trainer_node; a robot may start late or
die during the run.

The same node command lines as ``robotrl up fleet_sim`` (:func:`up.plan`), with a training run's
overrides (:func:`~robotrl_ros.graphs.train_run.job_overrides`) on top. Each robot runs as its own
:class:`~robotrl_ros.graphs.process.ProcessGroup`, so one robot can start later or be killed
while the others and the trainer go on. Used by the fleet graph test and ``benchmarks/fleet.py``::

    fleet = FleetRun(GraphConfig(task='reach', output_dir='runs/fleet'), n_robots=3,
                     late=('robot3',))
    result = fleet.run(events=lambda run: run.start_robot('robot3') if ... else None)
    result.summary['sources']['robot3']['accepted']

Pure Python: no ROS import.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robotrl_ros.graphs.process import ProcessGroup, ros_value
from robotrl_ros.graphs.train_run import STOP_TIMEOUTS_S, GraphConfig, job_overrides
from robotrl_ros.graphs.up import plan

GRAPH = 'fleet_sim'


def fleet_sets(cfg: GraphConfig, n_robots: int, source_timeout: float) -> list[str]:
    """``robotrl up fleet_sim --set`` items of a training run with ``n_robots`` robots.

    The run's per-node overrides, except the seeds: the ``seed`` argument gives robot i the
    simulator seed ``seed + i - 1``.
    """
    sets = [f'n_robots:={n_robots}', f'seed:={cfg.seed}',
            f'trainer_node.source_timeout:={ros_value(float(source_timeout))}']
    for node, params in job_overrides(cfg).items():
        sets += [f'{node}.{param}:={ros_value(value)}' for param, value in params.items()
                 if param != 'seed']
    return sets


@dataclass
class FleetResult:
    """What a fleet run produced."""

    wall_time_s: float
    summary: dict[str, Any]
    timed_out: bool
    logs: Path
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def artifact(self) -> Path | None:
        """The trainer's final policy, if it wrote one."""
        path = self.logs.parent / 'policy'
        return path if (path / 'policy.yaml').is_file() else None


class FleetRun:
    """The fleet graph's processes: the trainer, and one group per robot.

    Args:
        cfg: The training run (task, algo, output_dir, total_steps, timeout, ...).
        n_robots: Robots in the graph (namespaces ``robot1`` ..).
        late: Robots not started with the others (start them with :meth:`start_robot`).
        source_timeout: The trainer's ``source_timeout``.
    """

    def __init__(self, cfg: GraphConfig, n_robots: int, late: Iterable[str] = (),
                 source_timeout: float = 5.0) -> None:
        self.cfg = cfg
        self.out = Path(cfg.output_dir)
        self.logs = self.out / 'logs'
        self.logs.mkdir(parents=True, exist_ok=True)
        commands = plan(GRAPH, fleet_sets(cfg, n_robots, source_timeout), self.logs).commands
        self.env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1')
        if cfg.domain_id is not None:
            self.env['ROS_DOMAIN_ID'] = str(cfg.domain_id)
        self.env.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
        self.robot_commands: dict[str, dict[str, list[str]]] = {}
        for key, cmd in commands.items():
            if '/' in key:
                robot, node = key.split('/', 1)
                self.robot_commands.setdefault(robot, {})[node] = cmd
        self.late = set(late)
        unknown = self.late - set(self.robot_commands)
        if unknown:
            raise ValueError(f'late robots {sorted(unknown)} are not among '
                             f'{sorted(self.robot_commands)}')
        self.trainer = self._group('trainer', {'trainer_node': commands['trainer_node']})
        self.robots: dict[str, ProcessGroup] = {}
        self.killed: set[str] = set()
        self.events: list[dict[str, Any]] = []
        self.started = time.monotonic()

    def _group(self, label: str, commands: dict[str, list[str]]) -> ProcessGroup:
        logs = self.logs if label == 'trainer' else self.logs / label
        return ProcessGroup(commands, env=self.env, log_dir=logs, label=f'{GRAPH} {label}',
                            stop_timeouts=STOP_TIMEOUTS_S, await_stop_handlers=True)

    def _event(self, what: str, robot: str) -> None:
        self.events.append({'event': what, 'robot': robot,
                            't_s': round(time.monotonic() - self.started, 1)})

    def start_robot(self, robot: str) -> None:
        """Start ``robot``'s sim_bridge and policy_node (a robot joining the running fleet)."""
        group = self._group(robot, self.robot_commands[robot])
        group.start()
        self.robots[robot] = group
        self._event('start', robot)

    def kill_bridge(self, robot: str) -> None:
        """SIGKILL ``robot``'s sim_bridge: the robot dies without a goodbye."""
        proc = self.robots[robot].procs['sim_bridge']
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.killed.add(robot)
        self._event('kill sim_bridge', robot)

    def _unexpected_exit(self) -> str | None:
        for robot, group in self.robots.items():
            for node, proc in group.procs.items():
                if proc.poll() is not None and not (robot in self.killed
                                                    and node == 'sim_bridge'):
                    return f'{robot}/{node}'
        return None

    def run(self, events: Callable[[FleetRun], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> FleetResult:
        """Run until the trainer finishes, ``should_stop()``, or the run's ``timeout_s``.

        Args:
            events: Called about every 0.2 s with this run (start or kill robots there).
            should_stop: True stops the trainer (SIGINT: it writes its checkpoint, final
                artifact and ``summary.json``, whose ``sources`` say what each robot did).

        Raises:
            RuntimeError: A node exited that was not killed on purpose (its log is named).
        """
        self.started = time.monotonic()
        timed_out = False
        failure = None
        try:
            self.trainer.start()
            for robot in self.robot_commands:
                if robot not in self.late:
                    self.start_robot(robot)
            while True:
                if self.trainer.procs['trainer_node'].poll() is not None:
                    break
                failure = self._unexpected_exit()
                if failure is not None:
                    break
                if time.monotonic() - self.started > self.cfg.timeout_s:
                    timed_out = True
                    break
                if should_stop is not None and should_stop():
                    break
                if events is not None:
                    events(self)
                time.sleep(0.2)
        finally:
            self.trainer.stop()   # first: the summary sees the robots still running
            for group in self.robots.values():
                group.stop()
        wall = time.monotonic() - self.started
        if failure is not None:
            robot, node = failure.split('/')
            raise RuntimeError(f'{failure} exited with code '
                               f'{self.robots[robot].procs[node].returncode}; see '
                               f'{self.robots[robot].log_path(node)}')
        code = self.trainer.procs['trainer_node'].returncode
        if code not in (0, -signal.SIGINT) and not timed_out:
            raise RuntimeError(f'trainer_node exited with code {code}; see '
                               f'{self.trainer.log_path("trainer_node")}')
        summary_file = self.out / 'summary.json'
        summary = json.loads(summary_file.read_text()) if summary_file.is_file() else {}
        return FleetResult(wall_time_s=wall, summary=summary, timed_out=timed_out,
                           logs=self.logs, events=self.events)
