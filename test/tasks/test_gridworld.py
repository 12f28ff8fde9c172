# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Gridworld: walls, rewards, termination, BFS optimum, state indices and bad layouts."""

import numpy as np
import pytest

from robotrl_ros.tasks.gridworld import DEFAULT_LAYOUT, GridworldEnv
from robotrl_ros.tasks.registry import make_env, make_task
from robotrl_ros.tasks.spec import TaskSpec

UP, DOWN, LEFT, RIGHT = range(4)
CORRIDOR = ('S.#',
            '..G')


def test_moves_walls_and_borders():
    env = GridworldEnv(layout=CORRIDOR)
    obs, _ = env.reset(seed=0)
    assert obs.tolist() == [0.0, 0.0]
    obs, *_ = env.step(UP)                     # off the grid: stays
    assert obs.tolist() == [0.0, 0.0]
    obs, *_ = env.step(RIGHT)
    assert obs.tolist() == [0.0, 1.0]
    obs, *_ = env.step(RIGHT)                  # wall at (0, 2): stays
    assert obs.tolist() == [0.0, 1.0]
    assert env.joint_state()[2].tolist() == [0.0, 0.0]
    obs, *_ = env.step(DOWN)
    assert obs.tolist() == [1.0, 1.0]
    assert env.joint_state()[2].tolist() == [1.0, 0.0]


def test_reward_goal_bonus_and_termination():
    env = GridworldEnv(layout=CORRIDOR, goal_bonus=5.0)
    env.reset(seed=0)
    _, r, term, trunc, info = env.step(DOWN)
    assert (r, term, trunc, info['is_success']) == (-1.0, False, False, False)
    env.step(RIGHT)
    _, r, term, trunc, info = env.step(RIGHT)
    assert (r, term, trunc, info['is_success']) == (4.0, True, False, True)


def test_truncated_at_max_steps():
    env = GridworldEnv(layout=CORRIDOR, max_steps=3)
    env.reset(seed=0)
    flags = [env.step(UP)[2:4] for _ in range(3)]
    assert flags == [(False, False), (False, False), (False, True)]


def test_shortest_path_matches_greedy_walk_of_the_bfs_optimum():
    env = GridworldEnv()
    assert env.shortest_path_length() == 15
    assert GridworldEnv(layout=CORRIDOR).shortest_path_length() == 3
    assert GridworldEnv(size=(4, 6)).shortest_path_length() == 3 + 5
    # Following a strictly decreasing distance-to-goal reaches the goal in exactly that many steps.
    obs, _ = env.reset(seed=0)
    steps, done = 0, False
    while not done:
        cell = tuple(int(v) for v in obs)
        here = env.shortest_path_length(cell)
        for action in range(4):
            nxt = (cell[0] + int(env.task_spec.discrete_actions[action][0]),
                   cell[1] + int(env.task_spec.discrete_actions[action][1]))
            inside = 0 <= nxt[0] < env.n_rows and 0 <= nxt[1] < env.n_cols
            if inside and not env.walls[nxt] and env.shortest_path_length(nxt) == here - 1:
                break
        obs, _, done, _, _ = env.step(action)
        steps += 1
    assert steps == env.shortest_path_length()


def test_state_index_and_n_states():
    env = GridworldEnv(size=(3, 5))
    assert env.n_states == 15
    assert env.state_index(np.array([0.0, 0.0])) == 0
    assert env.state_index(np.array([2.0, 4.0])) == 14
    batch = env.state_index(np.array([[1.0, 2.0], [2.0, 0.0]]))
    assert batch.tolist() == [7, 10]
    with pytest.raises(ValueError, match='outside'):
        env.state_index(np.array([3.0, 0.0]))


def test_spec_is_discrete_with_four_moves_and_round_trips():
    env = make_env('gridworld')
    spec = env.task_spec
    assert spec.joint_names == ('row', 'col')
    assert spec.is_discrete and len(spec.discrete_actions) == 4
    assert env.action_space.n == 4 and spec.obs_dim == 2
    assert TaskSpec.from_dict(spec.to_dict()) == spec
    assert make_task('gridworld').spec == spec
    assert tuple(env.task.layout) == DEFAULT_LAYOUT


def test_step_command_moves_like_the_discrete_action():
    env = GridworldEnv(layout=CORRIDOR)
    env.reset(seed=0)
    env.step_command(np.array([0.0, 1.0]))
    assert env.joint_state()[1].tolist() == [0.0, 1.0]
    env.step_command(np.array([0.1, -0.2]))    # below half a cell: stay
    assert env.joint_state()[1].tolist() == [0.0, 1.0]


def test_start_option():
    env = GridworldEnv(layout=CORRIDOR)
    obs, _ = env.reset(options={'start': (1, 0)})
    assert obs.tolist() == [1.0, 0.0]
    with pytest.raises(ValueError, match='wall'):
        env.reset(options={'start': (0, 2)})


@pytest.mark.parametrize('layout, message', [
    ([], 'non-empty'),
    ('S.G', 'non-empty'),
    (['S..', 'G.'], 'same'),
    (['S.x', '..G'], "unknown character.*'x'"),
    (['...', '..G'], "exactly one 'S'"),
    (['S.G', '..G'], "exactly one 'G'"),
    (['S#.', '##G'], 'not reachable'),
])
def test_bad_layouts_are_rejected(layout, message):
    with pytest.raises(ValueError, match=message):
        GridworldEnv(layout=layout)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match='size'):
        GridworldEnv(size=(1, 1))
    with pytest.raises(ValueError, match='either layout or size'):
        GridworldEnv(layout=CORRIDOR, size=(3, 3))
    with pytest.raises(ValueError, match='max_steps'):
        GridworldEnv(max_steps=0)
    with pytest.raises(ValueError, match='unknown task'):
        make_env('gridwold')
