# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Grid navigation with walls, the task for tabular Q-learning.

The layout is a list of equal-length strings: ``#`` wall, ``S`` start, ``G`` goal, ``.`` free.
The agent is exposed as two "joints", ``row`` and ``col``, so the task flows through the same
TaskSpec, training and export path as the robot tasks. Four discrete actions (up, down, left,
right); moving into a wall or off the grid leaves the agent where it is. Reward ``-1`` per step,
plus ``goal_bonus`` on reaching the goal, which terminates the episode; truncated at
``max_steps``. The observation is ``(row, col)``; :meth:`GridworldEnv.state_index` turns it into
an integer for tabular agents.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from robotrl_ros.tasks.base import Task, TaskEnv
from robotrl_ros.tasks.observation import RobotState
from robotrl_ros.tasks.spec import ObsTerm, TaskSpec

DEFAULT_LAYOUT = (
    'S...#...',
    '.##.#.#.',
    '.#..#.#.',
    '.#.##.#.',
    '...#..#G',
    '.#...##.',
    '.#.#....',
    '...#.##.',
)
# (d_row, d_col) of the four actions: up, down, left, right.
MOVES = ((-1.0, 0.0), (1.0, 0.0), (0.0, -1.0), (0.0, 1.0))
LAYOUT_CHARS = frozenset('#SG.')


def parse_layout(layout: Sequence[str]) -> tuple[np.ndarray, tuple[int, int], tuple[int, int]]:
    """Validate a layout and return ``(walls, start, goal)``.

    Raises:
        ValueError: If the layout is empty, ragged, has unknown characters, not exactly one
            ``S`` and one ``G``, or the goal cannot be reached from the start.
    """
    if isinstance(layout, str) or not layout:
        raise ValueError('gridworld layout must be a non-empty list of strings, one per row')
    rows = [str(row) for row in layout]
    width = len(rows[0])
    if width == 0 or any(len(row) != width for row in rows):
        raise ValueError(f'gridworld layout rows must all have the same non-zero length; got '
                         f'lengths {[len(r) for r in rows]}')
    bad = sorted(set(''.join(rows)) - LAYOUT_CHARS)
    if bad:
        raise ValueError(f'gridworld layout has unknown character(s) {bad}; use # S G .')
    cells = {ch: [(r, c) for r, row in enumerate(rows) for c, x in enumerate(row) if x == ch]
             for ch in 'SG'}
    for ch, what in (('S', 'start'), ('G', 'goal')):
        if len(cells[ch]) != 1:
            raise ValueError(f'gridworld layout needs exactly one {ch!r} ({what}), found '
                             f'{len(cells[ch])}')
    walls = np.array([[x == '#' for x in row] for row in rows], dtype=bool)
    start, goal = cells['S'][0], cells['G'][0]
    if _bfs_distance(walls, start, goal) is None:
        raise ValueError(f'gridworld layout: goal {goal} is not reachable from start {start}')
    return walls, start, goal


def open_layout(rows: int, cols: int) -> tuple[str, ...]:
    """A wall-free ``rows x cols`` layout, start top-left and goal bottom-right."""
    if rows < 1 or cols < 1 or rows * cols < 2:
        raise ValueError(f'gridworld size must hold a start and a goal, got {rows}x{cols}')
    grid = [['.'] * cols for _ in range(rows)]
    grid[0][0], grid[-1][-1] = 'S', 'G'
    return tuple(''.join(row) for row in grid)


def _move(walls: np.ndarray, cell: tuple[int, int], move: tuple[float, float]) -> tuple[int, int]:
    r, c = cell[0] + int(move[0]), cell[1] + int(move[1])
    if 0 <= r < walls.shape[0] and 0 <= c < walls.shape[1] and not walls[r, c]:
        return r, c
    return cell


def _bfs_distance(walls: np.ndarray, start: tuple[int, int], goal: tuple[int, int]) -> int | None:
    dist = {start: 0}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        if cell == goal:
            return dist[cell]
        for move in MOVES:
            nxt = _move(walls, cell, move)
            if nxt not in dist:
                dist[nxt] = dist[cell] + 1
                queue.append(nxt)
    return None


def gridworld_spec(max_steps: int = 100) -> TaskSpec:
    """TaskSpec of the gridworld: joints ``row``/``col``, the four moves as the action table."""
    return TaskSpec(
        name='gridworld',
        joint_names=('row', 'col'),
        observation=(ObsTerm('joint_pos', 2),),
        action_scale=(1.0, 1.0),
        action_offset=(0.0, 0.0),
        command_lower=(-1.0, -1.0),
        command_upper=(1.0, 1.0),
        velocity_limits=(1.0, 1.0),
        control_period=1.0,
        command_interface='velocity',
        command_input='none',
        max_episode_steps=int(max_steps),
        discrete_actions=MOVES,
    )


class GridworldTask(Task):
    """Reward ``-1`` per step, ``+goal_bonus`` and termination on the goal cell.

    Args:
        layout: Rows of the grid (``#``, ``S``, ``G``, ``.``); :data:`DEFAULT_LAYOUT` if None.
        max_steps: Truncation horizon.
        goal_bonus: Added to the step reward when the goal is reached.
    """

    def __init__(self, layout: Sequence[str] | None = None, max_steps: int = 100,
                 goal_bonus: float = 10.0) -> None:
        if max_steps < 1:
            raise ValueError(f'gridworld max_steps must be >= 1, got {max_steps}')
        layout = DEFAULT_LAYOUT if layout is None else layout
        self.walls, self.start, self.goal_cell = parse_layout(layout)
        self.layout = tuple(layout)
        self.goal_bonus = float(goal_bonus)
        self.spec = gridworld_spec(max_steps)

    def reward(self, state: RobotState, action: np.ndarray,
               next_state: RobotState) -> tuple[float, bool, bool]:
        """``-1`` per step; ``-1 + goal_bonus`` and terminated on the goal."""
        cell = tuple(int(round(v)) for v in np.asarray(next_state.position)[:2])
        at_goal = cell == self.goal_cell
        return -1.0 + (self.goal_bonus if at_goal else 0.0), at_goal, at_goal


class GridworldEnv(TaskEnv):
    """Simulated grid for :class:`GridworldTask`.

    Args:
        layout: Rows of the grid; :data:`DEFAULT_LAYOUT` if None.
        size: ``(rows, cols)`` of a wall-free grid, instead of ``layout``.
        max_steps: Truncation horizon.
        goal_bonus: Reward bonus for reaching the goal.
    """

    def __init__(self, layout: Sequence[str] | None = None,
                 size: tuple[int, int] | None = None, max_steps: int = 100,
                 goal_bonus: float = 10.0) -> None:
        if layout is not None and size is not None:
            raise ValueError('gridworld: give either layout or size, not both')
        if size is not None:
            layout = open_layout(*size)
        super().__init__(GridworldTask(layout, max_steps, goal_bonus))
        self.walls = self.task.walls
        self.cell = self.task.start
        self.velocity = np.zeros(2)

    @property
    def n_rows(self) -> int:
        """Grid height."""
        return int(self.walls.shape[0])

    @property
    def n_cols(self) -> int:
        """Grid width."""
        return int(self.walls.shape[1])

    @property
    def n_states(self) -> int:
        """Number of cells (walls included), the size of a tabular agent's state space."""
        return self.n_rows * self.n_cols

    def state_index(self, obs: np.ndarray) -> int | np.ndarray:
        """Integer cell index ``row * n_cols + col`` of one observation or a batch of them."""
        obs = np.asarray(obs)
        rc = np.rint(obs[..., :2]).astype(np.int64)
        limits = np.array([self.n_rows, self.n_cols])
        if np.any(rc < 0) or np.any(rc >= limits):
            raise ValueError(f'gridworld: observation {obs.tolist()} is outside the '
                             f'{self.n_rows}x{self.n_cols} grid')
        index = rc[..., 0] * self.n_cols + rc[..., 1]
        return int(index) if index.ndim == 0 else index

    def shortest_path_length(self, start: tuple[int, int] | None = None) -> int:
        """Fewest steps from ``start`` (default: the layout's ``S``) to the goal (BFS)."""
        start = self.task.start if start is None else (int(start[0]), int(start[1]))
        dist = _bfs_distance(self.walls, start, self.task.goal_cell)
        if dist is None:
            raise ValueError(f'gridworld: goal not reachable from {start}')
        return dist

    def _sim_reset(self, rng: np.random.Generator, options: dict[str, Any]) -> None:
        start = options.get('start', self.task.start)
        cell = (int(start[0]), int(start[1]))
        if not (0 <= cell[0] < self.n_rows and 0 <= cell[1] < self.n_cols) or self.walls[cell]:
            raise ValueError(f'gridworld: start {cell} is a wall or outside the grid')
        self.cell = cell
        self.velocity = np.zeros(2)

    def _sim_apply(self, command: np.ndarray) -> None:
        # A command is a move; anything smaller than half a cell on both axes means "stay".
        if np.max(np.abs(command)) < 0.5:
            move = (0.0, 0.0)
        else:
            move = MOVES[self.task_spec.discrete_index(command)]
        before = self.cell
        self.cell = _move(self.walls, self.cell, move)
        self.velocity = np.subtract(self.cell, before).astype(np.float64)

    def _sim_joint_state(self) -> tuple[np.ndarray, np.ndarray, None]:
        return np.array(self.cell, dtype=np.float64), self.velocity, None
