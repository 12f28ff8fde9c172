# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Evaluate a policy artifact or an agent over K episodes with deterministic actions.

Optionally the first episodes are rendered into a video file (:mod:`robotrl_ros.training.video`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from robotrl_ros.agents.base import Agent
from robotrl_ros.policy.artifact import PolicyArtifact
from robotrl_ros.tasks.registry import make_env
from robotrl_ros.training.video import EpisodeVideo, check_video_path

Policy = Callable[[np.ndarray], Any]
#: Called after every reset (``True``) and every step (``False``) of a recorded episode.
FrameHook = Callable[[bool], None]


@dataclass
class EvalResult:
    """Summary of an evaluation (the ``robotrl eval`` JSON line).

    Attributes:
        task: Task name.
        episodes: Episodes run.
        mean_return: Mean undiscounted episode return.
        std_return: Standard deviation of the episode returns.
        success_rate: Fraction of episodes that ended in success; None when the task does not
            report success (e.g. Pendulum).
    """

    task: str
    episodes: int
    mean_return: float
    std_return: float
    success_rate: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the keys in the documented order."""
        return asdict(self)


def artifact_policy(artifact: PolicyArtifact, env: gym.Env) -> Policy:
    """``obs -> env action`` for a loaded artifact.

    Continuous actions pass through; for discrete-action envs the nearest table row is used.
    """
    if isinstance(env.action_space, gym.spaces.Discrete):
        spec = artifact.spec
        if not spec.is_discrete:
            raise ValueError(f'policy {artifact.path} was trained on continuous task '
                             f'{spec.name!r}; this env has discrete actions')
        return lambda obs: spec.discrete_index(artifact.act(obs))
    return artifact.act


def agent_policy(agent: Agent) -> Policy:
    """``obs -> env action`` for an agent acting deterministically."""
    return lambda obs: agent.act(np.asarray(obs)[None], deterministic=True)[0]


def artifact_env_kwargs(artifact: PolicyArtifact,
                        env_kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    """``env_kwargs`` plus the observation history the artifact was trained with.

    A policy whose terms span several control steps (``history`` in ``policy.yaml``) needs an
    env that lays out the same observation: its ``obs_history`` is taken from the artifact.
    """
    history = {term.name: term.history for term in artifact.spec.observation
               if term.history > 1}
    return {**(env_kwargs or {}), **({'obs_history': history} if history else {})}


def check_compatible(artifact: PolicyArtifact, env: gym.Env, task: str) -> None:
    """Fail with a clear message when an artifact does not fit the task's env.

    Raises:
        ValueError: Different observation size or joint names.
    """
    hint = ' (choose the robot with --robot)' if hasattr(env, 'robot') else ''
    obs_dim = int(np.prod(env.observation_space.shape))
    if artifact.spec.obs_dim != obs_dim:
        raise ValueError(f'policy {artifact.path} expects {artifact.spec.obs_dim} observations '
                         f'(task {artifact.spec.name!r}) but task {task!r} gives {obs_dim}{hint}')
    spec = getattr(env, 'task_spec', None)
    if spec is not None and tuple(spec.joint_names) != tuple(artifact.spec.joint_names):
        raise ValueError(f'policy {artifact.path} drives joints {list(artifact.spec.joint_names)}'
                         f' but task {task!r} has {list(spec.joint_names)}{hint}')


def evaluate(policy: Policy, env: gym.Env, episodes: int, seed: int,
             task: str = '', frame_hook: FrameHook | None = None,
             hooked_episodes: int = 0) -> EvalResult:
    """Run ``episodes`` episodes (the first reset seeded with ``seed``) and summarize them.

    Args:
        policy: ``obs -> action``.
        env: The environment.
        episodes: Episodes to run.
        seed: Seed of the first reset.
        task: Task name for messages and the result.
        frame_hook: Called after each reset and step of the first ``hooked_episodes`` episodes
            (e.g. :meth:`EpisodeVideo.capture`).
        hooked_episodes: How many episodes ``frame_hook`` sees.

    Raises:
        ValueError: If ``episodes`` < 1.
        FloatingPointError: If the env returns a non-finite observation or reward.
    """
    if episodes < 1:
        raise ValueError(f'episodes must be >= 1, got {episodes}')
    returns, successes = [], []
    obs, _ = env.reset(seed=seed)
    for episode in range(episodes):
        hook = frame_hook if frame_hook is not None and episode < hooked_episodes else None
        if hook is not None:
            hook(True)
        total, done, info = 0.0, False, {}
        while not done:
            obs, reward, terminated, truncated, info = env.step(policy(obs))
            if not (np.all(np.isfinite(obs)) and np.isfinite(reward)):
                raise FloatingPointError(f'task {task!r}: env returned a non-finite '
                                         'observation or reward during evaluation')
            total += float(reward)
            done = terminated or truncated
            if hook is not None:
                hook(False)
        returns.append(total)
        if 'is_success' in info:
            successes.append(bool(info['is_success']))
        obs, _ = env.reset()
    return EvalResult(task=task, episodes=episodes, mean_return=float(np.mean(returns)),
                      std_return=float(np.std(returns)),
                      success_rate=float(np.mean(successes)) if successes else None)


def evaluate_artifact(artifact: PolicyArtifact, task: str, episodes: int, seed: int,
                      env_kwargs: dict[str, Any] | None = None,
                      video: str | Path | None = None, video_episodes: int = 1) -> EvalResult:
    """Evaluate a loaded artifact on a fresh env of ``task``.

    Args:
        artifact: The policy.
        task: Task name.
        episodes: Episodes to run.
        seed: Seed of the first reset.
        env_kwargs: Keyword arguments of the env (e.g. ``robot``).
        video: ``.mp4`` or ``.gif`` file to render the first ``video_episodes`` episodes into
            (robot tasks; needs an OpenGL platform, e.g. ``MUJOCO_GL=egl``).
        video_episodes: Episodes in the video.

    Raises:
        ValueError: Incompatible artifact, bad video path or a task without a robot model.
        RenderError: ``video`` given but no OpenGL platform.
    """
    if video is not None:
        check_video_path(video)
    env = make_env(task, **artifact_env_kwargs(artifact, env_kwargs))
    recorder = None
    try:
        check_compatible(artifact, env, task)
        if video is not None:
            recorder = EpisodeVideo(env, video)
        return evaluate(artifact_policy(artifact, env), env, episodes, seed, task,
                        frame_hook=recorder.capture if recorder else None,
                        hooked_episodes=video_episodes)
    finally:
        if recorder is not None:
            recorder.close()
        env.close()
