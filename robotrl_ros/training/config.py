# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Hyperparameters from YAML: per task x algorithm defaults plus a user override file.

Defaults live in ``config/hparams/<task>_<algo>.yaml`` (``gym:Pendulum-v1`` becomes
``pendulum``). A file holds the loop settings at the top level and the agent's hyperparameters
under ``agent:``::

    n_envs: 1
    checkpoint_every: 10000
    agent:
      learning_rate: 3.0e-4

``robotrl train --config FILE.yaml`` overrides any of them; ``agent:`` entries are merged key by
key. Unknown loop keys fail with an error naming the key and the file; agent keys are checked
by the agent itself (``make_agent``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

PACKAGE = 'robotrl_ros'


class ConfigError(ValueError):
    """A hyperparameter file is missing, malformed or names an unknown key."""


@dataclass
class TrainConfig:
    """Settings of one training run.

    Attributes:
        n_envs: Environments stepped in lockstep (a synchronous vector env).
        env_workers: Processes that step the envs (0 = the training process itself). Worth it
            for simulators that dominate a run's time (MuJoCo), on a machine with spare cores.
        checkpoint_every: Env steps between checkpoints (0 = only at the end).
        log_every: Env steps between metric rows / progress log lines.
        return_window: Episodes averaged for the reported "recent return".
        env: Keyword arguments for ``make_env`` (e.g. ``goal``).
        agent: Hyperparameters handed to ``make_agent``.
        sources: Files the values were read from (for provenance and error messages).
    """

    n_envs: int = 1
    env_workers: int = 0
    checkpoint_every: int = 0
    log_every: int = 1000
    return_window: int = 20
    env: dict[str, Any] = field(default_factory=dict)
    agent: dict[str, Any] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for ``config.yaml`` in the run directory)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != 'sources'}


_LOOP_KEYS = {f.name for f in fields(TrainConfig)} - {'sources'}
_POSITIVE_INT = ('n_envs', 'log_every', 'return_window')


def task_slug(task: str) -> str:
    """File-name form of a task name: ``gym:Pendulum-v1`` -> ``pendulum``."""
    name = task.split(':', 1)[-1]
    name = re.sub(r'-v\d+$', '', name)
    return re.sub(r'[^0-9a-zA-Z]+', '_', name).strip('_').lower()


def hparams_dir() -> Path:
    """Directory of the default hyperparameter files (source tree, else installed share)."""
    source = Path(__file__).resolve().parents[2] / 'config' / 'hparams'
    if source.is_dir():
        return source
    try:
        from ament_index_python.packages import get_package_share_directory
        return Path(get_package_share_directory(PACKAGE)) / 'config' / 'hparams'
    except Exception:  # noqa: BLE001 - not installed by colcon: fall back to the source path
        return source


def default_config_path(task: str, algo: str) -> Path:
    """Path of the defaults file for ``task`` x ``algo`` (it may not exist)."""
    return hparams_dir() / f'{task_slug(task)}_{algo}.yaml'


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a hyperparameter file; raises :class:`ConfigError` naming the file on any problem."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f'cannot read config file {path}: {exc.strerror or exc}') from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f'config file {path} is not valid YAML: {exc}') from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f'config file {path} must hold a mapping of hyperparameters, '
                          f'got {type(data).__name__}')
    return data


def _apply(config: TrainConfig, data: dict[str, Any], source: str) -> None:
    for key, value in data.items():
        if key not in _LOOP_KEYS:
            raise ConfigError(f'unknown key {key!r} in config file {source}; '
                              f'allowed: {", ".join(sorted(_LOOP_KEYS))} '
                              '(agent hyperparameters go under "agent:")')
        if key in ('env', 'agent'):
            if not isinstance(value, dict):
                raise ConfigError(f'{key!r} in config file {source} must be a mapping, '
                                  f'got {type(value).__name__}')
            getattr(config, key).update(value)
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(f'{key!r} in config file {source} must be an integer, '
                              f'got {value!r}')
        if value < (1 if key in _POSITIVE_INT else 0):
            raise ConfigError(f'{key!r} in config file {source} must be '
                              f'{"> 0" if key in _POSITIVE_INT else ">= 0"}, got {value}')
        setattr(config, key, value)
    config.sources.append(source)


def load_config(task: str, algo: str, override: str | Path | None = None) -> TrainConfig:
    """Defaults for ``task`` x ``algo`` (if a file exists), then ``override`` on top.

    Raises:
        ConfigError: If a file cannot be read or parsed, or names an unknown key.
    """
    config = TrainConfig()
    default = default_config_path(task, algo)
    if default.is_file():
        _apply(config, read_yaml(default), str(default))
    if override is not None:
        _apply(config, read_yaml(override), str(override))
    return config
