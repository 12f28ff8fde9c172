# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The trainer node's parameters (docs/interfaces.md; docs/trainer.md's table is generated)."""

from robotrl_ros.ros.params import ParameterSpec

TRAINER_NODE_PARAMETERS = (
    ParameterSpec('task', 'reach', 'Task whose observation, reward and termination score the '
                  'observed transitions.', nonempty=True, read_only=True),
    ParameterSpec('robot', '', 'Robot of a task on any robot (`locomotion`, `ee_reach`): a '
                  "built-in name or a robot YAML path; '' = the task's default robot. Must be "
                  "the simulated or real robot's.", read_only=True),
    ParameterSpec('robot_description', '', "The robot's URDF (or MJCF) XML, as for sim_bridge; "
                  "'' = the robot file's description.", read_only=True),
    ParameterSpec('imu_tolerance', 0.01, 'Floating base: largest stamp offset (s) between a '
                  '`joint_states` message and the `imu` / `base_twist` samples paired with it '
                  '(the nearest of each); a state without them is not scored.', minimum=0.0,
                  read_only=True),
    ParameterSpec('algo', 'sac', '`sac`, `dqn` (off-policy, replay fed by the stream), `ppo`, '
                  '`reinforce` (rollouts collected from the graph).', nonempty=True,
                  read_only=True),
    ParameterSpec('output_dir', 'runs/trainer', 'Run directory (checkpoint, transitions, '
                  'policies); resumed if it exists.', nonempty=True, read_only=True),
    ParameterSpec('seed', 0, 'Seed of the agent and its sampling.'),
    ParameterSpec('config', '', "Hyperparameter YAML over `config/hparams/<task>_<algo>.yaml`; "
                  "'' = defaults. Its `env:` reward options (`reward_weights`, `cmd_ranges`) "
                  'also set the reward the trainer scores transitions with, and `obs_history` '
                  'the observation it pairs.'),
    ParameterSpec('command_topic', 'forward_position_controller/commands',
                  'The command topic the (exploring) policy node publishes on.', nonempty=True,
                  read_only=True),
    ParameterSpec('total_steps', 0, 'Transitions to learn from, then a final checkpoint and '
                  'policy and exit 0; 0 = forever.', minimum=0),
    ParameterSpec('publish_period', 5.0, 'Seconds between artifact publishes (when the policy '
                  'improved).', minimum=0.0, above_minimum=True, dynamic=True),
    ParameterSpec('publish_policy_artifacts', True, 'Also publish each artifact as bytes on '
                  '`policy_artifacts` (reliable, transient local: policy nodes on other machines '
                  'install it); `false`: only its path on `policy_updates` (one machine).',
                  read_only=True),
    ParameterSpec('reset_service', 'sim_bridge/reset', "Trigger service that starts a new "
                  "episode; '' on a real robot; not called when the bridge has `auto_reset`."),
    ParameterSpec('init_policy', '', 'Run directory (checkpoint) to fine-tune from; '
                  "'' = a new agent."),
    ParameterSpec('record_mcap', False, 'Record the stream to MCAP in `output_dir` (a fleet: '
                  'one file per robot namespace).'),
    ParameterSpec('mcap_flush_period', 1.0, 'Most seconds a recorded message waits to be on '
                  'disk (chunks are fsynced every half period): a crash loses at most this much '
                  'of the MCAP.', minimum=0.0,
                  above_minimum=True, read_only=True),
    ParameterSpec('replay_mcap', '', "Train offline from this recording first; '' = none."),
    ParameterSpec('status_period', 1.0, 'Seconds between `~/status` messages.', minimum=0.0,
                  above_minimum=True, dynamic=True),
    ParameterSpec('pause_service', '', 'Simulation only: a SetBool service whose `false` '
                  'pauses the stream while learning lags, and (PPO, REINFORCE) after each '
                  'update until the policy node reports the new policy: the lockstep '
                  "`sim_bridge/enable` (the policy's answer waits, no step is lost or added); "
                  "'' = off."),
    ParameterSpec('robot_namespaces', [], 'Fleet: one namespace per robot or simulator graph '
                  '(`<ns>/joint_states`, `<ns>/<command_topic>`, `<ns>/goal_pose`, `<ns>/imu`, '
                  '..., `<ns>/<reset_service>`, `<ns>/<pause_service>`, '
                  '`<ns>/policy_node/status`), each with its own pairing, episodes, resets and '
                  "goal, all feeding one learner; empty = the node's own relative topics (one "
                  'robot).', kind='str_list', read_only=True),
    ParameterSpec('source_timeout', 5.0, 'Seconds a source may stay silent before it is dropped '
                  'from the rollout (the learner never waits for it); it rejoins, with a fresh '
                  'pairing, when it speaks again; a simulator this trainer paused is never '
                  'dropped. 0 = never dropped; only with `robot_namespaces`.', minimum=0.0,
                  read_only=True),
)
