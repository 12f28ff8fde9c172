# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""CPU time of one policy evaluation: TorchScript against the NumPy translation of the same net.

``PolicyArtifact.act()`` on one observation, and policy_node's whole ``joint_states`` callback
(name mapping, observation, checks, inference, safety filter, command publish; an in-process
node, no subscriber), for the synthetic 12-joint artifact (36 -> 256 -> 256 -> 12, ELU, tanh),
with each backend forced, in three regimes: back-to-back calls (warm caches), a 2 ms sleep
between calls (the node waiting for the next 500 Hz message), and a 2 ms sleep after evicting
the caches (other processes ran meanwhile). The backends alternate in rounds so machine noise
hits both alike. Figures are thread CPU time (``time.thread_time_ns``) per call: median over all
calls of a case.
Results go to benchmarks/results/inference_backends.{json,md}.

Usage::

    .venv/bin/python benchmarks/inference_backends.py [--calls 500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault('OMP_NUM_THREADS', '1')

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _results import write_results  # noqa: E402 (benchmarks/ is the script's directory)

from robotrl_ros.policy.synthetic import make_synthetic_artifact  # noqa: E402
from robotrl_ros.util.threads import limit_threads  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / 'benchmarks' / 'results'
REGIMES = ('back-to-back', '2 ms sleep', '2 ms sleep + caches evicted')


def measure(call, inputs: list, regime: str) -> list[float]:
    """Thread CPU microseconds of ``call(x)`` for each of ``inputs``, in ``regime``."""
    evict = np.zeros(32 * 2**20 // 8)   # larger than the L2 + L3 share of one core
    times = []
    for x in inputs:
        if regime != 'back-to-back':
            if regime.endswith('evicted'):
                evict += 1.0
            time.sleep(0.002)
        start = time.thread_time_ns()
        call(x)
        times.append((time.thread_time_ns() - start) / 1e3)
    return times


class Callback:
    """policy_node's joint_states callback on an in-process node (armed, on_message)."""

    def __init__(self, artifact_dir: Path) -> None:
        import rclpy
        from rclpy.parameter import Parameter

        from robotrl_ros.nodes.policy_node import PolicyNode
        from robotrl_ros.ros.conversions import make_joint_state

        os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
        rclpy.init()
        self.node = PolicyNode(parameter_overrides=[
            Parameter('policy_path', value=str(artifact_dir)), Parameter('armed', value=True),
            Parameter('trust_artifact_limits', value=True),
            Parameter('control_mode', value='on_message'),
            Parameter('joint_limit_margin', value=0.01),
            # The TorchScript column runs the artifact's policy.pt: load it too.
            Parameter('allow_torchscript', value=True)])
        self.artifact = self.node.controller.artifact
        self.names = list(self.artifact.spec.joint_names)
        self.make = make_joint_state
        self.stamp = 1.0

    def messages(self, count: int, rng: np.random.Generator) -> list[bytes]:
        """Fresh serialized states with increasing stamps (a repeated stamp skips the policy).

        Serialized, as the node's raw ``joint_states`` subscription receives them.
        """
        from rclpy.serialization import serialize_message

        out = []
        for _ in range(count):
            self.stamp += 0.002
            out.append(serialize_message(self.make(
                self.names, rng.uniform(-0.5, 0.5, len(self.names)),
                rng.uniform(-1, 1, len(self.names)), stamp=self.stamp)))
        return out

    def close(self) -> None:
        """Destroy the node and shut rclpy down."""
        import rclpy
        self.node.destroy_node()
        rclpy.try_shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--calls', type=int, default=500, help='calls per regime and round')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--out', default=str(RESULTS / 'inference_backends'),
                        help='results path without suffix (.json and .md are written)')
    args = parser.parse_args()
    limit_threads(1)
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        callback = Callback(make_synthetic_artifact(Path(tmp) / 'policy'))
    artifact = callback.artifact
    translated = artifact._numpy
    if translated is None:
        raise SystemExit('the synthetic artifact was not translated to NumPy: nothing to compare')
    cases = [(f'act(), {r}', r, artifact.act) for r in REGIMES] + \
        [(f'policy_node callback, {r}', r, callback.node._on_joint_state_bytes) for r in REGIMES]
    samples: dict[str, dict[str, list[float]]] = {
        b: {name: [] for name, _, _ in cases} for b in ('torchscript', 'numpy')}
    rng = np.random.default_rng(0)
    for round_ in range(args.rounds):
        for name, regime, call in cases:
            order = ('torchscript', 'numpy') if round_ % 2 == 0 else ('numpy', 'torchscript')
            for backend in order:
                artifact._numpy = translated if backend == 'numpy' else None
                inputs = (list(rng.normal(size=(args.calls, artifact.spec.obs_dim))
                               .astype(np.float32)) if call == artifact.act
                          else callback.messages(args.calls, rng))
                samples[backend][name] += measure(call, inputs, regime)
        print(f'round {round_ + 1}/{args.rounds} done', flush=True)
    callback.close()
    rows = [{'case': name, **{f'{b}_us': float(np.median(samples[b][name])) for b in samples}}
            for name, _, _ in cases]
    for row in rows:
        row['saved_us'] = row['torchscript_us'] - row['numpy_us']
    record = {'date': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
              'machine': f'{platform.machine()} {os.cpu_count()} CPUs',
              'torch': torch.__version__,
              'numpy': np.__version__, 'calls_per_case': args.calls * args.rounds,
              'load_1min': [load_start, os.getloadavg()[0]], 'rows': rows}
    lines = ['# inference_backends: act() and the policy_node callback, TorchScript vs NumPy',
             '',
             f'Synthetic 12-joint 2x256 ELU MLP, one observation or joint_states message per '
             f'call, 1 thread; {record["calls_per_case"]} calls per backend and case, backends '
             f'alternating; thread CPU time, median. {record["date"]}, {record["machine"]}, '
             f'1-min load {load_start:.1f} -> {record["load_1min"][1]:.1f}.', '',
             '| case | TorchScript us | NumPy us | saved us |', '|---|---|---|---|']
    lines += [f'| {r["case"]} | {r["torchscript_us"]:.0f} | {r["numpy_us"]:.0f} | '
              f'{r["saved_us"]:.0f} |' for r in rows]
    write_results(args.out, record, lines)


if __name__ == '__main__':
    main()
