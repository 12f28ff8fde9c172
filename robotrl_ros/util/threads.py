# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""One knob for the CPU threads of torch and of NumPy's BLAS.

The agents' networks are small (64x64 MLPs; minibatches of 64-256 rows). At that size a second
BLAS or torch thread only adds synchronization, and OpenBLAS's idle threads spin on the cores
that the simulator and the ROS executor need: a DQN CartPole run took 2.1x longer with NumPy's
default threads than with one (2026-11-30, 2 vCPUs). Every entry point that trains or runs a
policy (``robotrl train``, the main job, the trainer and policy nodes, the benchmarks) calls
:func:`limit_threads`; call it too when you use the agents from your own script.
"""

from __future__ import annotations

import os
import sys


def limit_threads(n: int = 1, import_torch: bool = True) -> bool:
    """Use ``n`` threads for torch's CPU ops and for NumPy's BLAS, process-wide.

    With ``import_torch=False`` (a process that may never need torch, e.g. the policy node with
    a data artifact) torch is not imported here: if it is not loaded yet, ``OMP_NUM_THREADS``
    gives its thread count once something imports it.

    Returns:
        Whether the BLAS limit was applied (it needs the ``threadpoolctl`` package; without it
        NumPy keeps its default, which ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS`` set).
    """
    if n < 1:
        raise ValueError(f'limit_threads: need at least one thread, got {n}')
    if import_torch or 'torch' in sys.modules:
        import torch
        torch.set_num_threads(n)
    else:
        os.environ['OMP_NUM_THREADS'] = str(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    threadpool_limits(limits=n, user_api='blas')
    return True
