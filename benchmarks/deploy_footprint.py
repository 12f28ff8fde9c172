# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""What the policy node costs a robot computer: resident memory and seconds from start to ready.

Starts ``python -m robotrl_ros.nodes.policy_node`` with a synthetic artifact (12 joints, a 2x256
MLP) and measures the seconds from process start to its ``policy_node ready`` log line, then
its resident memory (``VmRSS`` one second after ready, and the peak ``VmHWM``). Rows:

- ``before``: the code of another revision (default: c082e8b, main before the data artifacts),
  extracted with ``git archive`` and put first on ``PYTHONPATH``; its artifact is exported by
  that code (TorchScript);
- ``data``: this tree, the exported data artifact (``allow_torchscript`` false: no torch);
- ``torchscript``: this tree, the same network as a TorchScript-only artifact with
  ``allow_torchscript: true`` (bring-your-own).

Results go to benchmarks/results/deploy_footprint.{json,md}. Usage::

    .venv/bin/python benchmarks/deploy_footprint.py [--repeats 5] [--before c082e8b]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_results  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / 'benchmarks' / 'results'
TIMEOUT = 120.0
MAKE_ARTIFACT = ('import sys; from robotrl_ros.policy.synthetic import make_synthetic_artifact; '
                 'make_synthetic_artifact(sys.argv[1], n_joints=12)')


def _proc_kb(pid: int, field: str) -> int:
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith(field + ':'):
            return int(line.split()[1])
    raise KeyError(field)


def measure(source: Path | None, artifact: Path, params: list[str]) -> dict:
    """One start of the node: seconds to ready, resident and peak memory (MB)."""
    env = dict(os.environ)
    if source is not None:
        env['PYTHONPATH'] = f'{source}{os.pathsep}{env.get("PYTHONPATH", "")}'
    args = [sys.executable, '-m', 'robotrl_ros.nodes.policy_node', '--ros-args',
            '-p', f'policy_path:={artifact}', *sum((['-p', p] for p in params), [])]
    start = time.monotonic()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, cwd=tempfile.gettempdir())
    try:
        for line in proc.stdout:
            if 'policy_node ready' in line:
                ready = time.monotonic() - start
                break
            if time.monotonic() - start > TIMEOUT:
                raise RuntimeError('policy_node never became ready')
        else:
            raise RuntimeError(f'policy_node exited with {proc.wait()} before ready')
        time.sleep(1.0)
        rss, peak = _proc_kb(proc.pid, 'VmRSS'), _proc_kb(proc.pid, 'VmHWM')
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return {'ready_s': ready, 'rss_mb': rss / 1024, 'peak_mb': peak / 1024}


def _before_tree(revision: str, work: Path) -> Path:
    tree = work / f'src-{revision}'
    tree.mkdir()
    archive = subprocess.run(['git', '-C', str(ROOT), 'archive', revision, 'robotrl_ros'],
                             check=True, capture_output=True).stdout
    subprocess.run(['tar', '-x', '-C', str(tree)], input=archive, check=True)
    return tree


def _make_artifact(source: Path | None, out: Path) -> Path:
    env = dict(os.environ)
    if source is not None:
        env['PYTHONPATH'] = f'{source}{os.pathsep}{env.get("PYTHONPATH", "")}'
    subprocess.run([sys.executable, '-c', MAKE_ARTIFACT, str(out)], env=env, check=True,
                   capture_output=True)
    return out


def _torchscript_only(artifact: Path, out: Path) -> Path:
    shutil.copytree(artifact, out)
    meta = yaml.safe_load((out / 'policy.yaml').read_text())
    del meta['network'], meta['files']
    (out / 'policy.yaml').write_text(yaml.safe_dump(meta))
    (out / 'policy.safetensors').unlink()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--before', default='c082e8b', help="'before' revision ('' = skip)")
    parser.add_argument('--out', default=str(RESULTS / 'deploy_footprint'))
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = _make_artifact(None, work / 'data')
        rows = {}
        if args.before:
            tree = _before_tree(args.before, work)
            rows[f'before ({args.before})'] = (tree, _make_artifact(tree, work / 'before'), [])
        rows['data (allow_torchscript false)'] = (None, data, [])
        rows['torchscript (allow_torchscript true)'] = (
            None, _torchscript_only(data, work / 'ts'), ['allow_torchscript:=true'])
        results = {}
        for name, (source, artifact, params) in rows.items():
            runs = [measure(source, artifact, params) for _ in range(args.repeats)]
            results[name] = {key: statistics.median(run[key] for run in runs)
                             for key in runs[0]} | {'runs': runs}
    machine = (f'{platform.platform()}, {os.cpu_count()} CPUs, 1-minute load average '
               f'{load_before:.1f} at the start and {os.getloadavg()[0]:.1f} at the end')
    lines = ['# policy_node footprint: resident memory and start-to-ready', '',
             f'{machine}; synthetic 12-joint 2x256 MLP artifact, {args.repeats} starts each '
             '(medians). Ready = the `policy_node ready` log line; RSS one second later; peak = '
             'VmHWM. Start times scale with the machine\'s load (shared CI-like VM); compare '
             'the rows of one run. `benchmarks/deploy_footprint.py`.', '',
             '| node code / artifact | start to ready (s) | resident (MB) | peak (MB) |',
             '|---|---|---|---|']
    lines += [f'| {name} | {r["ready_s"]:.2f} | {r["rss_mb"]:.0f} | {r["peak_mb"]:.0f} |'
              for name, r in results.items()]
    write_results(args.out, {'machine': machine, 'repeats': args.repeats,
                             'results': results}, lines)


if __name__ == '__main__':
    main()
