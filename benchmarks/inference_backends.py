# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""CPU time of one policy evaluation: TorchScript against the NumPy translation of the same net.

``PolicyArtifact.act()`` on one observation (what the policy node does per message) for the
synthetic 12-joint artifact (36 -> 256 -> 256 -> 12, ELU, tanh), with each backend forced, in
three regimes: back-to-back calls (warm caches), a 2 ms sleep between calls (the node waiting
for the next 500 Hz message), and a 2 ms sleep after evicting the caches (other processes ran
meanwhile). The backends alternate in rounds so machine noise hits both alike. Figures are
thread CPU time (``time.thread_time_ns``) per call: median over all calls of a regime.
Results go to benchmarks/results/inference_backends.{json,md}.

Usage::

    .venv/bin/python benchmarks/inference_backends.py [--calls 500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault('OMP_NUM_THREADS', '1')

import numpy as np  # noqa: E402
import torch  # noqa: E402

from robotrl_ros.policy.artifact import load_artifact  # noqa: E402
from robotrl_ros.policy.synthetic import make_synthetic_artifact  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / 'benchmarks' / 'results'
REGIMES = ('back-to-back', '2 ms sleep', '2 ms sleep + caches evicted')


def measure(artifact, regime: str, calls: int, rng: np.random.Generator) -> list[float]:
    """Thread CPU microseconds of ``calls`` single-observation ``act()`` calls."""
    evict = np.zeros(32 * 2**20 // 8)   # larger than the L2 + L3 share of one core
    obs = rng.normal(size=(calls, artifact.spec.obs_dim)).astype(np.float32)
    times = []
    for row in obs:
        if regime != 'back-to-back':
            if regime.endswith('evicted'):
                evict += 1.0
            time.sleep(0.002)
        start = time.thread_time_ns()
        artifact.act(row)
        times.append((time.thread_time_ns() - start) / 1e3)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--calls', type=int, default=500, help='calls per regime and round')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--out', default=str(RESULTS / 'inference_backends'),
                        help='results path without suffix (.json and .md are written)')
    args = parser.parse_args()
    torch.set_num_threads(1)
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        artifact = load_artifact(make_synthetic_artifact(Path(tmp) / 'policy'))
    translated = artifact._numpy
    if translated is None:
        raise SystemExit('the synthetic artifact was not translated to NumPy: nothing to compare')
    samples: dict[str, dict[str, list[float]]] = {
        b: {r: [] for r in REGIMES} for b in ('torchscript', 'numpy')}
    rng = np.random.default_rng(0)
    for round_ in range(args.rounds):
        for regime in REGIMES:
            order = ('torchscript', 'numpy') if round_ % 2 == 0 else ('numpy', 'torchscript')
            for backend in order:
                artifact._numpy = translated if backend == 'numpy' else None
                samples[backend][regime] += measure(artifact, regime, args.calls, rng)
        print(f'round {round_ + 1}/{args.rounds} done', flush=True)
    rows = [{'regime': r, **{f'{b}_us': float(np.median(samples[b][r])) for b in samples}}
            for r in REGIMES]
    for row in rows:
        row['saved_us'] = row['torchscript_us'] - row['numpy_us']
    record = {'date': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
              'machine': f'{platform.machine()} {os.cpu_count()} CPUs', 'torch': torch.__version__,
              'numpy': np.__version__, 'calls_per_regime': args.calls * args.rounds,
              'load_1min': [load_start, os.getloadavg()[0]], 'rows': rows}
    lines = ['# inference_backends: one act() call, TorchScript vs NumPy translation', '',
             f'Synthetic 12-joint 2x256 ELU MLP, one observation per call, 1 thread; '
             f'{record["calls_per_regime"]} calls per backend and regime, backends alternating; '
             f'thread CPU time, median. {record["date"]}, {record["machine"]}, 1-min load '
             f'{load_start:.1f} -> {record["load_1min"][1]:.1f}.', '',
             '| regime | TorchScript us | NumPy us | saved us |', '|---|---|---|---|']
    lines += [f'| {r["regime"]} | {r["torchscript_us"]:.0f} | {r["numpy_us"]:.0f} | '
              f'{r["saved_us"]:.0f} |' for r in rows]
    text = '\n'.join(lines) + '\n'
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix('.json').write_text(json.dumps(record, indent=2) + '\n')
    out.with_suffix('.md').write_text(text)


if __name__ == '__main__':
    main()
