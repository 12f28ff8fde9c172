# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Many ``locomotion`` robots in one process: physics per robot, task math once per batch.

:class:`LocomotionBatch` keeps one ``MjData`` per robot on one shared model. A step hands each
robot its joint targets and calls ``mj_step`` (C) per robot, then gathers the observed signals of
all robots into arrays and computes observation, reward and termination for the whole batch in
one NumPy call each (:meth:`LocomotionTask.observe_batch`, :meth:`LocomotionTask.reward_batch`),
so the Python cost per robot falls with the batch size. Robot ``i`` behaves exactly like a
:class:`LocomotionEnv` reset with seed ``seed + i`` and given the same actions (a test checks).

With ``randomization`` each robot is what :class:`~robotrl_ros.tasks.randomization.RandomizedEnv`
makes of its env, from the same seeded streams: per-episode masses, friction and servo strength
(each robot then has its own copy of the ``MjModel``), commands delayed by the episode's latency
and noisy joint states (the tests compare the two step by step).

Its interface is that of the training loop's env batch: :meth:`reset` and :meth:`step` return
the next observations (reset ones for robots whose episode ended), rewards, flags and the true
final observations. Non-finite results are returned as they are; the training loop's batch
(:class:`robotrl_ros.training.vec_env.LocomotionEnvBatch`) checks them and names the robot.

A batch pickles by configuration: its constructor options, each robot's MuJoCo integration state
(``mj_getState``), commands, last actions, episode steps, RNG states, randomization state
(episode dynamics, pending commands, noise) and observation history, never the ``MjModel``,
which is rebuilt from the robot file on unpickling. An unpickled batch steps on exactly as the
original would.
"""

from __future__ import annotations

import copy
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import Any

import mujoco
import numpy as np
from gymnasium.utils import seeding

from robotrl_ros.tasks.feet_air_time import FeetAirTime, feet_in_contact
from robotrl_ros.tasks.locomotion import CMD_RANGES, START_NOISE, LocomotionTask
from robotrl_ros.tasks.observation_history import ObservationHistory
from robotrl_ros.tasks.randomization import (
    RandomizationConfig,
    apply_dynamics,
    as_randomization,
    dr_stream,
    joint_noise,
)

DOWN = np.array([0.0, 0.0, -1.0])


class LocomotionBatch:
    """``n_envs`` simulated robots of :class:`LocomotionTask`, stepped together.

    Args:
        n_envs: Robots in the batch.
        robot: Built-in robot name or robot YAML path (floating base).
        goal: Fixed command ``(vx, vy, wz)`` for every robot; sampled per episode when None.
        cmd_ranges: Command ranges (see :class:`LocomotionTask`).
        reward_weights: Reward weight overrides.
        obs_history: Control steps per observation term (see
            :func:`~robotrl_ros.tasks.locomotion.locomotion_spec`).
        randomization: Domain randomization (a :class:`RandomizationConfig`, its dict or a
            preset name), or None for the nominal robot.
    """

    def __init__(self, n_envs: int, robot: str | Path = 'a1', goal: Any = None,
                 cmd_ranges: Any = CMD_RANGES,
                 reward_weights: dict[str, float] | None = None,
                 randomization: RandomizationConfig | dict[str, Any] | str | None = None,
                 obs_history: dict[str, int] | None = None) -> None:
        if n_envs < 1:
            raise ValueError(f'LocomotionBatch needs n_envs >= 1, got {n_envs}')
        self.options = {'robot': robot, 'goal': goal, 'cmd_ranges': cmd_ranges,
                        'reward_weights': reward_weights, 'randomization': randomization,
                        'obs_history': obs_history}
        self.task = LocomotionTask(robot, cmd_ranges, reward_weights, obs_history)
        self.robot = self.task.robot
        self.spec = self.task.spec
        self.n_envs = n_envs
        self.dr = None if randomization is None else as_randomization(randomization)
        # One model per robot where the dynamics differ per robot, else one shared model.
        per_robot = self.dr is not None and self.dr.randomizes_dynamics
        self.robots = [replace(self.robot, model=copy.deepcopy(self.robot.model))
                       if per_robot else self.robot for _ in range(n_envs)]
        self.datas = [robot.make_data() for robot in self.robots]
        self.frame_skip = max(1, round(self.spec.control_period
                                       / float(self.robot.model.opt.timestep)))
        self._fixed_goal = None if goal is None else np.asarray(goal, dtype=np.float64)
        n = self.spec.action_dim
        self.cmd = np.zeros((n_envs, 3))
        self.last_action = np.zeros((n_envs, n))
        self.steps = np.zeros(n_envs, dtype=np.int64)
        self.history = ObservationHistory(self.spec, n_envs)
        self.feet_air = (FeetAirTime(n_envs, len(self.robot.feet_bodies), self.spec.control_period)
                         if self.task.uses_feet_contacts else None)
        self._rngs: list[np.random.Generator] = []
        self._dr_rngs: list[np.random.Generator] = []
        self.episode_params: list[dict[str, Any]] = [{} for _ in range(n_envs)]
        self._pending: list[deque[np.ndarray]] = [deque() for _ in range(n_envs)]
        self._noise = np.zeros((n_envs, 2, n))      # joint position, velocity noise
        self._neutral = self.spec.action_to_command(np.zeros(n))
        gyro = self.robot.model.sensor('imu_gyro').id
        adr = int(self.robot.model.sensor_adr[gyro])
        self._gyro = slice(adr, adr + 3)

    # --- one robot ---------------------------------------------------------------------------
    def _reset_one(self, i: int) -> None:
        robot, rng, data = self.robots[i], self._rngs[i], self.datas[i]
        self.cmd[i] = self._fixed_goal if self._fixed_goal is not None \
            else self.task.sample_goal(rng)
        if self.dr is not None:
            params = self.episode_params[i] = self.dr.sample(self._dr_rngs[i])
            if self.dr.randomizes_dynamics:
                apply_dynamics(robot, params)
            self._pending[i] = deque([self._neutral] * params['latency_steps'])
        robot.reset(data)
        noise = rng.uniform(-START_NOISE, START_NOISE, len(robot.default_pose))
        data.qpos[robot.qpos_adr] = np.clip(robot.default_pose + noise, robot.lower, robot.upper)
        mujoco.mj_forward(robot.model, data)
        self.last_action[i] = 0.0
        self.steps[i] = 0
        if self.feet_air is not None:
            self.feet_air.reset(np.array([i]))
        self._draw_noise(i)

    def _draw_noise(self, i: int) -> None:
        """Robot ``i``'s joint-state noise until its next control period (as RandomizedEnv)."""
        if self.dr is not None and self.dr.obs_noise_std > 0:
            self._noise[i] = joint_noise(self._dr_rngs[i], self.dr.obs_noise_std,
                                         self.spec.action_dim)

    def _apply(self, i: int, command: np.ndarray) -> None:
        """Hand robot ``i`` its command (delayed by its latency) for one control period."""
        robot, data = self.robots[i], self.datas[i]
        if self.dr is not None:
            self._pending[i].append(command.copy())
            command = self._pending[i].popleft()
        data.ctrl[:] = command
        mujoco.mj_step(robot.model, data, nstep=self.frame_skip)
        self._draw_noise(i)

    # --- the batch ---------------------------------------------------------------------------
    def signals(self) -> tuple[np.ndarray, ...]:
        """``(position, velocity, gravity, ang_vel, lin_vel)`` of every robot, ``(n_envs, .)``.

        Joint positions and velocities carry the episode's noise under randomization.
        """
        robot = self.robot
        qpos = np.stack([d.qpos for d in self.datas])
        qvel = np.stack([d.qvel for d in self.datas])
        rotation = np.stack([d.xmat[robot.imu_body] for d in self.datas]).reshape(-1, 3, 3)
        ang_vel = np.stack([d.sensordata[self._gyro] for d in self.datas])
        gravity = rotation.transpose(0, 2, 1) @ DOWN                  # IMU frame
        lin_vel = np.einsum('bji,bj->bi', rotation, qvel[:, 0:3])     # R^T v, IMU frame
        position, velocity = qpos[:, robot.qpos_adr], qvel[:, robot.dof_adr]
        if self.dr is not None and self.dr.obs_noise_std > 0:
            position, velocity = position + self._noise[:, 0], velocity + self._noise[:, 1]
        return position, velocity, gravity, ang_vel, lin_vel

    def _frames(self, position: np.ndarray, velocity: np.ndarray, gravity: np.ndarray,
                ang_vel: np.ndarray, lin_vel: np.ndarray) -> np.ndarray:
        return self.task.observe_batch(position, velocity, lin_vel, gravity, ang_vel, self.cmd,
                                       self.last_action)

    def reset(self, seed: int) -> np.ndarray:
        """Reset every robot (robot ``i`` seeded with ``seed + i``); observations."""
        self._rngs = [seeding.np_random(seed + i)[0] for i in range(self.n_envs)]
        self._dr_rngs = [dr_stream(seed + i) for i in range(self.n_envs)]
        for i in range(self.n_envs):
            self._reset_one(i)
        self.history.reset()
        return self.history.push(self._frames(*self.signals()))

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                 np.ndarray, list[bool | None]]:
        """Apply one action per robot for one control period.

        Returns:
            ``(next_obs, reward, terminated, truncated, final_obs, success)`` as the training
            loop's env batch: ``next_obs`` holds reset observations where an episode ended,
            ``final_obs`` the true last ones; ``success`` is None where the episode goes on.

        Raises:
            ValueError: Wrong shape or non-finite actions.
        """
        spec = self.spec
        actions = np.asarray(actions, dtype=np.float64)
        if actions.shape != (self.n_envs, spec.action_dim) or not np.isfinite(actions).all():
            raise ValueError(f'locomotion batch: actions must be finite, shape '
                             f'{(self.n_envs, spec.action_dim)}; got {actions.shape}')
        action = np.clip(actions, -1.0, 1.0)
        command = spec.action_to_command(action)
        for i in range(self.n_envs):
            self._apply(i, command[i])
        previous = self.last_action
        self.last_action = spec.command_to_action(command)
        self.steps += 1
        position, velocity, gravity, ang_vel, lin_vel = self.signals()
        landed = None
        if self.feet_air is not None:
            feet = self.robot.feet_bodies
            landed = self.feet_air.update(np.stack([
                feet_in_contact(robot.model, data, feet)
                for robot, data in zip(self.robots, self.datas, strict=True)]))
        reward, terminated, success = self.task.reward_batch(
            position, velocity, action, previous, lin_vel, ang_vel, gravity, self.cmd, landed)
        truncated = ~terminated & (self.steps >= spec.max_episode_steps)
        final_obs = self.history.push(self._frames(position, velocity, gravity, ang_vel,
                                                   lin_vel))
        done = terminated | truncated
        next_obs = final_obs
        if done.any():
            for i in np.flatnonzero(done):
                self._reset_one(int(i))
            self.history.reset(done)
            next_obs = final_obs.copy()
            next_obs[done] = self.history.push(self._frames(*self.signals()), done)
        flags = [bool(success[i]) if done[i] else None for i in range(self.n_envs)]
        return next_obs, reward, terminated, truncated, final_obs, flags

    # --- pickling by configuration -------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        model, spec = self.robot.model, mujoco.mjtState.mjSTATE_INTEGRATION
        physics = np.zeros((self.n_envs, mujoco.mj_stateSize(model, spec)))
        for data, row in zip(self.datas, physics, strict=True):
            mujoco.mj_getState(model, data, row, spec)
        return {'options': self.options, 'n_envs': self.n_envs, 'physics': physics,
                'cmd': self.cmd, 'last_action': self.last_action, 'steps': self.steps,
                'rngs': [rng.bit_generator.state for rng in self._rngs],
                'dr_rngs': [rng.bit_generator.state for rng in self._dr_rngs],
                'episode_params': self.episode_params, 'noise': self._noise,
                'pending': [list(queue) for queue in self._pending],
                'history': self.history.state(),
                'feet_air': None if self.feet_air is None else self.feet_air.state()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state['n_envs'], **state['options'])  # type: ignore[misc]
        self.episode_params = state.get('episode_params', self.episode_params)
        if self.dr is not None and self.dr.randomizes_dynamics:
            for robot, params in zip(self.robots, self.episode_params, strict=True):
                if params:      # else: not reset yet (a batch handed to a worker)
                    apply_dynamics(robot, params)
        spec = mujoco.mjtState.mjSTATE_INTEGRATION
        for robot, data, row in zip(self.robots, self.datas, state['physics'], strict=True):
            mujoco.mj_setState(robot.model, data, row, spec)
            mujoco.mj_forward(robot.model, data)
        self.cmd, self.last_action = state['cmd'], state['last_action']
        self.steps = state['steps']
        self._rngs = [_generator(rng_state) for rng_state in state['rngs']]
        self._dr_rngs = [_generator(rng_state) for rng_state in state.get('dr_rngs', [])]
        self._noise = state.get('noise', self._noise)
        self._pending = [deque(queue) for queue in state.get('pending', self._pending)]
        if 'history' in state:      # batches pickled before observation history had none
            self.history.restore(state['history'])
        if self.feet_air is not None and state.get('feet_air') is not None:
            self.feet_air.restore(state['feet_air'])


def _generator(bit_generator_state: dict[str, Any]) -> np.random.Generator:
    """A NumPy generator restored from its bit generator's state."""
    rng = seeding.np_random(0)[0]
    rng.bit_generator.state = bit_generator_state
    return rng
