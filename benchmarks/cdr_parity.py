# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""CDR parity at scale: the raw JointState reader against rclpy on 100,000 fuzzed payloads.

Runs the differential fuzzer of test/ros/test_cdr.py (the test suite runs the same 100,000,
giving only every 8th refusal to rclpy): distinct mutated and truncated JointState messages in
both byte orders; the raw reader must return exactly what
``rclpy.serialization.deserialize_message`` returns or refuse the bytes. Here every refusal is
also given to rclpy, to count the two kinds. Exits 1 on any mismatch. Usage::

    python benchmarks/cdr_parity.py [--count 100000] [--seed 1]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _results import write_results  # noqa: E402


def main() -> int:
    """Run the fuzzer; write benchmarks/results/cdr_parity.{json,md}; 1 on a mismatch."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--count', type=int, default=100_000)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--out', default=str(HERE / 'results' / 'cdr_parity'))
    args = parser.parse_args()
    spec = importlib.util.spec_from_file_location(
        'test_cdr', HERE.parent / 'test' / 'ros' / 'test_cdr.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    start = time.perf_counter()
    counts = module.differential_fuzz(args.count, args.seed)
    seconds = time.perf_counter() - start
    record = {'count': args.count, 'seed': args.seed, 'seconds': round(seconds, 1),
              **{key: counts[key] for key in ('same', 'refused', 'both_refused', 'mismatch')}}
    write_results(args.out, record, [
        '# CDR parity: raw JointState reader vs rclpy deserialize_message', '',
        f'{args.count} mutated/truncated payloads (both byte orders), seed {args.seed}:', '',
        '| same | refused (rclpy reads it; the node falls back) | both refuse | mismatch |',
        '|---|---|---|---|',
        f'| {counts["same"]} | {counts["refused"]} | {counts["both_refused"]} | '
        f'{counts["mismatch"]} |'])
    return 1 if counts['mismatch'] else 0


if __name__ == '__main__':
    sys.exit(main())
