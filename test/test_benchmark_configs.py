# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The A1 configs the benchmark results name (``benchmarks/configs/``) load and build.

The results' commands pass them to ``robotrl train --task locomotion --robot a1 --algo ppo
--config FILE``; a typo in a key would otherwise show only when someone reruns a benchmark.
"""

from pathlib import Path

import pytest

from robotrl_ros.agents.registry import make_agent
from robotrl_ros.tasks.registry import make_env, robot_env_kwargs
from robotrl_ros.training.config import load_config

CONFIGS = sorted((Path(__file__).resolve().parents[1] / 'benchmarks' / 'configs').glob('*.yaml'))


def test_the_configs_folder_is_found():
    assert CONFIGS, 'no benchmarks/configs/*.yaml'


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_benchmark_config_builds_its_env_and_agent(path):
    config = load_config('locomotion', 'ppo', path)
    assert config.sources[-1] == str(path)
    env = make_env('locomotion', **{**config.env, **robot_env_kwargs('locomotion', 'a1')})
    try:
        make_agent('ppo', env, config.agent, seed=0)  # raises on an unknown agent key
        env.reset(seed=0)
        env.step(env.action_space.sample())
    finally:
        env.close()
