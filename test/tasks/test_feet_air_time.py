# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""feet_air_time: foot contacts from the simulator, air time per landing, the reward term."""

import numpy as np
import pytest

from robotrl_ros.tasks.feet_air_time import FeetAirTime, feet_in_contact
from robotrl_ros.tasks.locomotion import (
    CONTROL_PERIOD,
    FEET_AIR_TARGET,
    LocomotionEnv,
    LocomotionTask,
)
from robotrl_ros.tasks.locomotion_batch import LocomotionBatch

DT = 0.02


def test_a_landing_pays_out_the_flight_time_and_a_flicker_is_no_flight():
    air = FeetAirTime(n_envs=2, n_feet=2, period=DT)
    down, up = [True, True], [False, True]
    assert not air.update([down, down]).any()           # standing: nothing lands
    flights = [air.update([up, down]) for _ in range(10)]
    assert not np.any(flights)                          # robot 0's foot 0 in the air
    landed = air.update([down, down])
    # The first step up still counts as contact (a landing's contact flickers), then 9 steps
    # up and the landing step.
    assert landed[0, 0] == pytest.approx(10 * DT)
    assert landed[0, 1] == 0 and not landed[1].any()
    # One step without contact between two with it is a flicker, not a step in the air.
    assert not air.update([up, down]).any()
    assert not air.update([down, down]).any()


def test_reset_rows_start_over_on_the_ground():
    air = FeetAirTime(n_envs=2, n_feet=1, period=DT)
    for _ in range(5):
        air.update([[False], [False]])
    air.reset(np.array([1]))
    assert air.air[0, 0] == pytest.approx(5 * DT) and air.air[1, 0] == 0
    with pytest.raises(ValueError, match='feet'):
        FeetAirTime(1, 0, DT)


def test_a1_feet_touch_the_floor_standing_and_not_when_lifted():
    env = LocomotionEnv('a1')
    env.reset(seed=0)
    for _ in range(10):
        env.step(np.zeros(12))
    feet = env.robot.feet_bodies
    assert feet_in_contact(env.robot.model, env.data, feet).all()
    env.data.qpos[2] += 0.5                             # the whole robot half a metre up
    import mujoco
    mujoco.mj_forward(env.robot.model, env.data)
    assert not feet_in_contact(env.robot.model, env.data, feet).any()


def test_reward_term_pays_landings_past_half_a_second_while_moving():
    task = LocomotionTask('a1', reward_weights={'feet_air_time': 1.0})
    q = task.spec._arrays['offset'][None]
    zeros, gravity = np.zeros((2, 3)), np.tile([0.0, 0.0, -1.0], (2, 1))
    cmd = np.array([[0.5, 0.0, 0.0], [0.05, 0.0, 0.0]])         # moving, (almost) still
    landed = np.array([[0.7, 0.0, 0.2, 0.0]] * 2)
    terms = task.reward_terms(np.repeat(q, 2, 0), np.zeros((2, 12)), np.zeros((2, 12)), None,
                              zeros, zeros, gravity, cmd, landed)
    want = (0.7 - FEET_AIR_TARGET) + (0.2 - FEET_AIR_TARGET)
    assert terms['feet_air_time'] == pytest.approx([want, 0.0])
    plain = task.reward_terms(np.repeat(q, 2, 0), np.zeros((2, 12)), np.zeros((2, 12)), None,
                              zeros, zeros, gravity, cmd)
    assert not plain['feet_air_time'].any()
    reward, _, _ = task.reward_batch(np.repeat(q, 2, 0), np.zeros((2, 12)), np.zeros((2, 12)),
                                     None, zeros, zeros, gravity, cmd, landed)
    base, _, _ = LocomotionTask('a1').reward_batch(np.repeat(q, 2, 0), np.zeros((2, 12)),
                                                   np.zeros((2, 12)), None, zeros, zeros,
                                                   gravity, cmd)
    assert reward - base == pytest.approx([CONTROL_PERIOD * want, 0.0])


def test_without_contacts_a_weighted_term_is_refused_naming_it():
    task = LocomotionTask('a1', reward_weights={'feet_air_time': 1.0})
    assert task.uses_feet_contacts and not LocomotionTask('a1').uses_feet_contacts
    q = task.spec._arrays['offset'][None]
    with pytest.raises(ValueError, match='feet_air_time needs foot contacts'):
        task.reward_batch(q, np.zeros((1, 12)), np.zeros((1, 12)), None, np.zeros((1, 3)),
                          np.zeros((1, 3)), np.array([[0.0, 0.0, -1.0]]), np.ones((1, 3)))


def test_trainer_session_refuses_a_config_weighting_feet_air_time(tmp_path):
    from robotrl_ros.training.online.session import OnlineSession
    from robotrl_ros.training.online.session_config import SessionConfig
    config = tmp_path / 'hparams.yaml'
    config.write_text('env:\n  reward_weights:\n    feet_air_time: 1.0\n')
    with pytest.raises(ValueError, match='feet_air_time needs foot contacts'):
        OnlineSession(SessionConfig(task='locomotion', algo='ppo', robot='a1',
                                    output_dir=str(tmp_path / 'run'), config=str(config)))


def test_walking_robots_land_feet_and_earn_the_term():
    batch = LocomotionBatch(4, 'a1', reward_weights={'feet_air_time': 1.0}, goal=[0.5, 0, 0])
    batch.reset(3)
    rng = np.random.default_rng(1)
    landings = 0
    for _ in range(100):
        before = batch.feet_air.air.copy()
        batch.step(rng.uniform(-1, 1, (4, 12)))
        landings += int(((before > 0) & (batch.feet_air.air == 0)).sum())
    assert landings > 0
