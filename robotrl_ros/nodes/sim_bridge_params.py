# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The sim bridge's parameters (docs/interfaces.md; docs/sim_bridge.md's table is generated)."""

from robotrl_ros.ros.node_runner import EXECUTOR_PARAMETER
from robotrl_ros.ros.params import ParameterSpec

_SCALE_RANGE = 'multiplier range [lo, hi], sampled uniformly per episode.'

SIM_BRIDGE_PARAMETERS = (
    ParameterSpec('task', 'reach', 'Task to simulate (`robotrl_ros.tasks.registry.task_names()`).',
                  nonempty=True, read_only=True),
    ParameterSpec('robot', '', 'Robot of a task on any robot (`locomotion`, `ee_reach`): a '
                  "built-in name (`a1`, `panda`, ...) or a robot YAML path; '' = the task's "
                  'default robot.', read_only=True),
    ParameterSpec('robot_description', '', 'The robot\'s URDF (or MJCF) XML, as '
                  'robot_state_publisher takes it; with `robot`, that file\'s settings apply '
                  'to it; alone, default settings (base floating unless the URDF has a `world` '
                  "link). '' = the robot file's description.", read_only=True),
    ParameterSpec('joints', [], "Joint order of command messages, remapped to the task's order "
                  "by name; empty = the task's order.", kind='str_list', read_only=True),
    ParameterSpec('command_topic', 'forward_position_controller/commands',
                  'Float64MultiArray command topic.', nonempty=True, read_only=True),
    ParameterSpec('control_period', 0.0, "Real-time timer period in s (0 = the task's); sim "
                  "time always advances by the task's period.", minimum=0.0),
    ParameterSpec('lockstep', False, 'One control step per received command (training).',
                  read_only=True),
    ParameterSpec('lockstep_republish_period', 0.2, 'Republish the latest state (same stamp) '
                  'and goal after this long without a command (lockstep).', minimum=0.0,
                  above_minimum=True),
    ParameterSpec('publish_clock', False, 'Publish the sim time on `clock` (for '
                  '`use_sim_time` nodes).'),
    ParameterSpec('seed', 0, 'Seeds episodes and randomization: a run is reproducible.'),
    ParameterSpec('goal', [], 'Fixed goal for every episode; empty = sample one. A change '
                  'applies from the next episode.', kind='float_list', dynamic=True),
    ParameterSpec('auto_reset', False, 'Start a new episode when the task terminates or '
                  'truncates (sim_eval).'),
    ParameterSpec('dr_mass_scale', [1.0, 1.0], f'Mass {_SCALE_RANGE}', kind='float_list'),
    ParameterSpec('dr_friction_scale', [1.0, 1.0], f'Friction {_SCALE_RANGE}',
                  kind='float_list'),
    ParameterSpec('dr_gain_scale', [1.0, 1.0], f'Actuator gain {_SCALE_RANGE}',
                  kind='float_list'),
    ParameterSpec('dr_latency_steps', [0, 0], 'Command latency range [lo, hi] in control '
                  'steps.', kind='int_list'),
    ParameterSpec('dr_obs_noise_std', 0.0, 'Std of Gaussian noise on published joint '
                  'positions/velocities.', minimum=0.0),
    ParameterSpec('dr_push_interval', 0.0, 'Floating base: seconds of sim time between random '
                  'pushes; 0 = none.', minimum=0.0),
    ParameterSpec('dr_push_velocity', 0.0, 'Floating base: largest planar velocity change of '
                  'a push, per axis (m/s).', minimum=0.0),
    ParameterSpec('dr_imu_noise_std', 0.0, 'Floating base: std of Gaussian noise on the '
                  'published `imu` and `base_twist`.', minimum=0.0),
    ParameterSpec('status_period', 1.0, 'Seconds between `~/status` messages.', minimum=0.0,
                  above_minimum=True),
    EXECUTOR_PARAMETER,
)
