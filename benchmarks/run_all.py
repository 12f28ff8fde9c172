# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``make bench``: run every benchmark script under benchmarks/ and collect the results.

Each ``benchmarks/<name>.py`` (except this file and ``_``-prefixed helpers) runs in its own
process with its default arguments; its results land in ``benchmarks/results/<name>.*``. A
summary (exit status, duration, result files) goes to ``benchmarks/results/run_all.json``.

Usage::

    python benchmarks/run_all.py                      # everything (the learning one takes hours)
    python benchmarks/run_all.py --skip learning      # the quick ones
    python benchmarks/run_all.py --only policy_latency,task_speed
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / 'results'


def discover() -> list[str]:
    """Names of the benchmark scripts (``benchmarks/<name>.py``)."""
    return sorted(p.stem for p in HERE.glob('*.py')
                  if p.name != Path(__file__).name and not p.name.startswith('_'))


def run_benchmark(name: str, timeout: float | None) -> dict:
    """Run one benchmark script; returns its summary record."""
    started = time.time()
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get('OMP_NUM_THREADS', '1'))
    try:
        proc = subprocess.run([sys.executable, str(HERE / f'{name}.py')], cwd=HERE.parent,
                              env=env, timeout=timeout)
        status = proc.returncode
    except subprocess.TimeoutExpired:
        status = 'timeout'
    files = sorted(str(p.relative_to(HERE.parent)) for p in RESULTS.glob(f'{name}.*')
                   if p.stat().st_mtime >= started)
    return {'benchmark': name, 'status': status, 'seconds': round(time.time() - started, 1),
            'results': files}


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks; exit 1 if any failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--only', default='', help='comma-separated benchmark names')
    parser.add_argument('--skip', default='', help='comma-separated benchmark names to skip')
    parser.add_argument('--timeout', type=float, default=None,
                        help='seconds allowed per benchmark (default: no limit)')
    args = parser.parse_args(argv)
    names = discover()
    only = [n for n in args.only.split(',') if n]
    skip = set(n for n in args.skip.split(',') if n)
    unknown = [n for n in [*only, *skip] if n not in names]
    if unknown:
        parser.error(f'unknown benchmark(s) {unknown}; available: {", ".join(names)}')
    selected = [n for n in (only or names) if n not in skip]
    summary = []
    for name in selected:
        print(f'== {name}', flush=True)
        summary.append(run_benchmark(name, args.timeout))
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / 'run_all.json').write_text(json.dumps(summary, indent=1) + '\n')
    print('\n'.join(f'{r["benchmark"]:>20}: status {r["status"]}, {r["seconds"]} s, '
                    f'{", ".join(r["results"]) or "no result files"}' for r in summary))
    return 0 if all(r['status'] == 0 for r in summary) else 1


if __name__ == '__main__':
    sys.exit(main())
