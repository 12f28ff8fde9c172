# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Bring your own policy: a Stable-Baselines3 model exported to TorchScript + hand-written yaml."""

import numpy as np
import pytest
import torch

from robotrl_ros.policy.artifact import ArtifactError, load_artifact
from robotrl_ros.tasks.registry import make_env

sb3 = pytest.importorskip('stable_baselines3')

# Written by hand, as a user would for a network trained outside robotrl_ros. The SB3 model
# sees the raw observation (no VecNormalize), so there is no normalization section.
POLICY_YAML = """\
format_version: 1
task: reach
algorithm: sb3_ppo
provenance: {framework: stable-baselines3, steps: 128}
joint_names: [x, y, z]
observation:
- {name: joint_pos, size: 3}
- {name: joint_vel, size: 3, scale: 2.0}
- {name: goal_position, size: 3}
- {name: goal_delta, size: 3}
action_scale: [1.0, 1.0, 1.0]
action_offset: [0.0, 0.0, 0.0]
command_lower: [-1.0, -1.0, -1.0]
command_upper: [1.0, 1.0, 1.0]
velocity_limits: [0.5, 0.5, 0.5]
control_period: 0.1
command_interface: acceleration
command_input: goal_pose
"""


def test_sb3_ppo_actor_deploys_with_a_hand_written_yaml(tmp_path):
    torch.manual_seed(0)
    env = make_env('reach')
    model = sb3.PPO('MlpPolicy', env, n_steps=64, batch_size=64, n_epochs=1, seed=0,
                    device='cpu')
    model.learn(total_timesteps=128)
    # The recipe: the deterministic actor is features -> policy latent -> action mean.
    policy = model.policy
    actor = torch.nn.Sequential(policy.mlp_extractor.policy_net, policy.action_net).eval()
    traced = torch.jit.trace(actor, torch.zeros(1, env.observation_space.shape[0]))
    torch.jit.save(traced, str(tmp_path / 'policy.pt'))
    (tmp_path / 'policy.yaml').write_text(POLICY_YAML)

    with pytest.raises(ArtifactError, match='allow_torchscript is false'):
        load_artifact(tmp_path)   # TorchScript is code: bring-your-own needs the opt-in
    artifact = load_artifact(tmp_path, allow_torchscript=True)
    assert artifact.spec.obs_dim == env.observation_space.shape[0]
    assert artifact.spec.observation == env.task_spec.observation
    obs = np.stack([env.reset(seed=i)[0] for i in range(20)])
    obs[:, 3:6] = np.random.default_rng(0).uniform(-1, 1, size=(20, 3))
    expected, _ = model.predict(obs, deterministic=True)
    assert np.ptp(expected) > 1e-3  # a real, observation-dependent policy
    np.testing.assert_allclose(artifact.act(obs), expected, atol=1e-5)
    assert np.all(np.abs(artifact.command(obs[0])) <= 1.0)
