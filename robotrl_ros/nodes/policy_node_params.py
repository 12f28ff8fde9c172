# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The policy node's parameters (docs/interfaces.md, docs/deploy.md's table is generated)."""

from robotrl_ros.policy.controller import TIMEOUT_ACTIONS
from robotrl_ros.ros.node_runner import EXECUTOR_PARAMETER
from robotrl_ros.ros.params import ParameterSpec

CONTROL_MODES = ('on_message', 'timer')
#: Values of ``autostart``: the lifecycle state the node brings itself to at start.
AUTOSTART_STATES = ('unconfigured', 'inactive', 'active')

POLICY_NODE_PARAMETERS = (
    ParameterSpec('policy_path', '', 'Policy artifact directory (policy.yaml + weights); '
                  'empty: wait for one on `policy_updates`.'),
    ParameterSpec('command_topic', 'forward_position_controller/commands',
                  'Float64MultiArray command topic, in the artifact joint order.',
                  nonempty=True, read_only=True),
    ParameterSpec('control_mode', 'on_message', '`on_message`: one command per joint_states '
                  'message (lockstep sim); `timer`: act every `control_period` on the latest '
                  'state.', choices=CONTROL_MODES),
    ParameterSpec('control_period', 0.0, "Seconds between commands in timer mode (0 = the "
                  "artifact's; a stand without a policy: 0.02 s).", minimum=0.0),
    ParameterSpec('state_timeout', 0.5, 'Watchdog: seconds without fresh joint_states before '
                  'the `timeout_action`.', minimum=0.0, above_minimum=True),
    ParameterSpec('timeout_action', 'hold', 'On stale joint_states or a stale input: `hold`: '
                  'the safe command every period (the last safe position for position, zeros '
                  'for velocity, effort, acceleration); `stop`: the safe command once, then '
                  'nothing.', choices=TIMEOUT_ACTIONS, dynamic=True),
    ParameterSpec('armed', False, 'Start armed (command at once): raises `autostart` '
                  '`inactive` to `active`; otherwise wait for `~/enable` (arm and disarm at run '
                  'time through `~/enable`, or the lifecycle transitions).'),
    ParameterSpec('autostart', 'inactive', 'Lifecycle state the node brings itself to at '
                  'start: `unconfigured` (a launch file or `robotrl up` drives the transitions '
                  'through `change_state`), `inactive` (configured: robot and artifact loaded '
                  'and checked; `active` with `armed: true`) or `active`.',
                  choices=AUTOSTART_STATES, read_only=True),
    ParameterSpec('explore', False, "Use the artifact's stochastic `explore()` instead of "
                  '`act()` (data collection, fine-tuning).', dynamic=True),
    ParameterSpec('max_command_delta', 0.0, 'Deprecated: largest change of a joint command '
                  'per message (its meaning changes with the rate); use `max_command_rate`. '
                  '0 = off.', minimum=0.0, dynamic=True),
    ParameterSpec('max_command_rate', 0.0, 'Largest change of a joint command per second '
                  '(command units / s, over the time since the previous command, at most one '
                  'control period); 0 = off. Position targets are also never moved faster than '
                  "the robot's joint velocity limit.", minimum=0.0, dynamic=True),
    ParameterSpec('robot_description', '', "The robot's URDF (XML text, or a .urdf file path): "
                  'position, velocity and effort limits per joint, intersected with the '
                  "artifact's; empty (and no `robot`): taken from the `robot_description` topic "
                  '(robot_state_publisher; arming waits for it).', read_only=True),
    ParameterSpec('robot', '', 'The robot: a built-in name (`a1`, `panda`, ...) or a robot '
                  'YAML path (its description, or `robot_description` when given): joints, '
                  'default pose (the stand pose without a trained policy), kp/kd and limits; '
                  "artifacts are checked against it. '' = only `robot_description`.",
                  read_only=True),
    ParameterSpec('stand_on_enable', False, '`~/enable` true goes passive -> stand (to the '
                  "default pose: the artifact's `robot.default_pose` / `action_offset`, or the "
                  "robot's) -> policy; false: straight to the policy (simulation, training).",
                  read_only=True),
    ParameterSpec('stand_duration', 2.0, 'Seconds the stand takes at least (longer where a '
                  "joint's velocity limit needs it).", minimum=0.0, read_only=True),
    ParameterSpec('stand_tolerance', 0.3, 'The policy starts once every joint is within this '
                  'of the default pose (command units) after the stand (soft legged servos sag '
                  'under the weight: docs/deploy.md).', minimum=0.0,
                  above_minimum=True, read_only=True),
    ParameterSpec('joy_topic', '', 'sensor_msgs/Joy topic of a gamepad (enable / disarm '
                  "buttons, axes -> cmd_vel); '' = no joystick.", read_only=True),
    ParameterSpec('joy_config', '', 'Joystick mapping YAML (teleop_twist_joy style: '
                  'enable_button, disarm_button, axis_linear, scale_linear, axis_angular, '
                  "scale_angular); '' = the default mapping (docs/deploy.md).", read_only=True),
    ParameterSpec('joy_timeout', 0.5, 'Seconds without a Joy message after which the joystick '
                  'is stale: its cmd_vel becomes zero (the robot stops); 0 = never.',
                  minimum=0.0, read_only=True),
    ParameterSpec('joint_limits', '', 'ros2_control-style joint_limits YAML file (has_*/min_*/'
                  "max_* per joint); combined with robot_description, the tighter bound wins.",
                  read_only=True),
    ParameterSpec('trust_artifact_limits', False, "Arm without the robot's limits, clamping "
                  "to the artifact's only (simulators); false: without robot_description or "
                  'joint_limits the node refuses to arm.', read_only=True),
    ParameterSpec('input_timeout', 0.5, 'Seconds after which a needed input (cmd_vel, imu, '
                  'base_twist; goal_pose with its override) is stale: the safe command is '
                  'published instead; 0 = never.', minimum=0.0),
    ParameterSpec('cmd_vel_timeout', -1.0, 'Override of `input_timeout` for cmd_vel '
                  '(< 0: use input_timeout; 0: never stale).', minimum=-1.0),
    ParameterSpec('imu_timeout', -1.0, 'Override of `input_timeout` for imu (< 0: use '
                  'input_timeout; 0: never stale).', minimum=-1.0),
    ParameterSpec('base_twist_timeout', -1.0, 'Override of `input_timeout` for base_twist '
                  '(< 0: use input_timeout; 0: never stale).', minimum=-1.0),
    ParameterSpec('goal_pose_timeout', 0.0, 'Override of `input_timeout` for goal_pose, a '
                  'set-point usually sent once (0: never stale; < 0: use input_timeout).',
                  minimum=-1.0),
    ParameterSpec('max_stamp_jump', 1.0, 'A joint_states stamp more than this many seconds '
                  'ahead of the last accepted one is rejected and counted (`stamp_jumps`); '
                  'after `state_timeout` without an accepted state any stamp starts a new '
                  'baseline. 0 = no forward-jump check.', minimum=0.0),
    ParameterSpec('raw_cdr', True, 'Parse joint_states from the serialized bytes (faster); '
                  "false: rclpy's deserialization.", read_only=True),
    ParameterSpec('joint_limit_margin', 0.0, 'Distance kept from each joint command limit.',
                  minimum=0.0, dynamic=True),
    ParameterSpec('joint_command_topic', '', 'Also publish commands as sensor_msgs/JointState '
                  "here (header.stamp = the answered state's stamp); empty = off.",
                  read_only=True),
    ParameterSpec('watch_policy_file', False, 'Reload `policy_path` when its files change.'),
    ParameterSpec('allow_torchscript', False, 'Load TorchScript (`policy.pt`: a program that '
                  'runs when loaded) for bring-your-own artifacts without a data network and for '
                  "`explore`; `false`: such artifacts are refused before loading.",
                  read_only=True),
    ParameterSpec('enable_policy_updates', False, 'Subscribe `policy_updates` (hot reload of '
                  'artifact paths from the trainer); `false`: the topic is not subscribed.',
                  read_only=True),
    ParameterSpec('trusted_artifact_dirs', [], 'Directories an update path must resolve into '
                  '(symlinks and `..` resolved); empty = the directory holding `policy_path` '
                  '(`policy_path` itself is always accepted). The train_sim graph sets it to '
                  "the run's `output_dir`.", kind='str_list',
                  read_only=True),
    ParameterSpec('max_artifact_bytes', 256 * 1024 * 1024, 'Most bytes read from one '
                  'artifact (all its files); larger ones are refused.', minimum=1,
                  read_only=True),
    ParameterSpec('artifact_load_timeout', 10.0, 'Seconds after which an update load is '
                  'abandoned (the next update still installs); 0 = never.', minimum=0.0,
                  read_only=True),
    ParameterSpec('enable_policy_artifacts', False, 'Subscribe `policy_artifacts` (artifacts '
                  'as bytes from a trainer on any machine: verified, installed under '
                  '`artifact_dir`, then loaded with every check); `false`: not subscribed. '
                  'Trusted sources only (docs/deploy.md, Security).', read_only=True),
    ParameterSpec('artifact_dir', '', 'Directory where artifacts received on '
                  '`policy_artifacts` are installed (each in its own subdirectory, the newest '
                  'few kept); required with `enable_policy_artifacts`.', read_only=True),
    ParameterSpec('status_period', 1.0, 'Seconds between `~/status` JSON messages.',
                  minimum=0.0, above_minimum=True),
    ParameterSpec('latency_warn_ms', 20.0, '`/diagnostics` WARN when the p99 end-to-end '
                  'latency (joint_states received to command sent) is above this many ms; '
                  '0 = never.', minimum=0.0, dynamic=True),
    ParameterSpec('default_goal', [], 'Goal (x, y[, z]) used until `goal_pose` arrives; '
                  'empty = none.', kind='float_list', lengths=(0, 2, 3)),
    ParameterSpec('reset_on_new_goal', True, 'A changed `goal_pose` / `cmd_vel` starts a new '
                  'episode: the next state is answered with `last_action` zeroed and the rate '
                  "limit restarted from it (as the simulator's reset and the trainer do); "
                  '`false` for a joystick that steers one long episode (config/deploy.yaml).',
                  dynamic=True),
    EXECUTOR_PARAMETER,
)
