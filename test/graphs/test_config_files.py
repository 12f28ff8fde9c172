# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""config/{train_sim,deploy,sim_eval}.yaml against the graphs and the parameter contract.

Static checks (no ROS): every node section matches a node of the graph under any namespace,
every parameter is one the node declares per docs/interfaces.md, required ones are set, the
nodes of one graph agree on the command topic, and deploy is safe by default. That the running
nodes really declare and receive these values is checked in test_up_graphs.py.
"""

import re
from pathlib import Path

import pytest
import yaml

from robotrl_ros.graphs.definitions import GRAPHS

ROOT = Path(__file__).resolve().parents[2]

#: Parameters every rclpy node declares itself.
ROS_BUILTIN = {'use_sim_time'}

#: Parameters a graph's YAML must set for the node to do its job there.
REQUIRED = {
    'sim_bridge': ('task', 'command_topic', 'lockstep'),
    'policy_node': ('policy_path', 'command_topic', 'armed', 'explore', 'state_timeout'),
    'trainer_node': ('task', 'algo', 'output_dir', 'command_topic', 'reset_service'),
}


def contract_parameters() -> dict[str, set[str]]:
    """``{node: {parameter names}}`` from the 'Node parameters' section of docs/interfaces.md."""
    text = (ROOT / 'docs' / 'interfaces.md').read_text()
    section = text.split('## Node parameters', 1)[1].split('\n', 1)[1].split('\n## ', 1)[0]
    params = {}
    for paragraph in section.split('\n\n'):
        match = re.match(r'\s*(\w+):(.*)', paragraph, re.DOTALL)
        if match and match.group(1) in ('policy_node', 'sim_bridge', 'trainer_node'):
            body = re.sub(r'\([^()]*\)', '', match.group(2))  # drop "(`a`|`b`)" value notes
            params[match.group(1)] = set(re.findall(r'`(\w+)`', body))
    return params


def load(graph_name: str) -> dict:
    return yaml.safe_load((ROOT / 'config' / GRAPHS[graph_name].config_file).read_text())


def node_params(graph_name: str) -> dict[str, dict]:
    return {key.removeprefix('/**/'): value['ros__parameters']
            for key, value in load(graph_name).items()}


def test_contract_section_parses():
    params = contract_parameters()
    assert set(params) == {'policy_node', 'sim_bridge', 'trainer_node'}
    assert {'policy_path', 'armed', 'explore', 'default_goal'} <= params['policy_node']
    assert 'on_message' not in params['policy_node']  # value notes are not parameters
    assert {'lockstep', 'dr_latency_steps', 'status_period'} <= params['sim_bridge']
    assert {'reset_service', 'replay_mcap'} <= params['trainer_node']


@pytest.mark.parametrize('graph_name', sorted(GRAPHS))
def test_sections_are_the_graph_nodes_under_any_namespace(graph_name):
    data = load(graph_name)
    # A bare 'policy_node:' key would not match /robot1/policy_node (rcl prepends '/').
    assert sorted(data) == sorted(f'/**/{node}' for node in GRAPHS[graph_name].nodes)
    for key, value in data.items():
        assert list(value) == ['ros__parameters'], f'{key}: only ros__parameters allowed'
        assert isinstance(value['ros__parameters'], dict)


@pytest.mark.parametrize('graph_name', sorted(GRAPHS))
def test_every_parameter_is_declared_by_its_node(graph_name):
    contract = contract_parameters()
    for node, params in node_params(graph_name).items():
        undeclared = set(params) - contract[node] - ROS_BUILTIN
        assert not undeclared, f'{graph_name}.yaml sets {sorted(undeclared)} that {node} ' \
                               'does not declare (docs/interfaces.md)'


@pytest.mark.parametrize('graph_name', sorted(GRAPHS))
def test_required_parameters_are_set(graph_name):
    for node, params in node_params(graph_name).items():
        missing = [p for p in REQUIRED[node] if p not in params]
        assert not missing, f'{graph_name}.yaml: {node} lacks {missing}'


@pytest.mark.parametrize('graph_name', sorted(GRAPHS))
def test_parameter_values_have_ros_types(graph_name):
    # Empty lists carry no type in a ROS parameter file, mixed lists are rejected by rcl.
    for node, params in node_params(graph_name).items():
        for name, value in params.items():
            assert value is not None, f'{node}.{name} is null'
            if isinstance(value, list):
                assert value, f'{node}.{name}: an empty list has no ROS type'
                assert len({type(v) for v in value}) == 1, f'{node}.{name}: mixed types'


@pytest.mark.parametrize('graph_name', sorted(GRAPHS))
def test_nodes_of_a_graph_agree_on_the_command_topic(graph_name):
    topics = {node: params['command_topic'] for node, params in node_params(graph_name).items()}
    assert len(set(topics.values())) == 1, topics
    topic = next(iter(topics.values()))
    assert not topic.startswith('/'), 'topics must be relative so a namespace moves them'


@pytest.mark.parametrize('graph_name', sorted(GRAPHS))
def test_argument_targets_exist(graph_name):
    graph = GRAPHS[graph_name]
    contract = contract_parameters()
    for arg in graph.arguments:
        assert arg.targets or arg.description_targets, f'{arg.name} sets nothing'
        for node, param in (*arg.targets, *arg.description_targets):
            assert node in graph.nodes, f'{arg.name} targets {node}, not in {graph_name}'
            assert param in contract[node] | ROS_BUILTIN, f'{arg.name} -> unknown {node}.{param}'


def test_deploy_never_arms_by_default():
    params = node_params('deploy')['policy_node']
    assert params['armed'] is False and params['explore'] is False
    assert GRAPHS['deploy'].argument('armed').default == 'false'
    assert 0 < params['state_timeout'] <= 0.5
    assert GRAPHS['deploy'].argument('policy_path').default is None  # required


def test_simulated_graphs_run_in_lockstep_and_armed():
    for graph_name in ('train_sim', 'sim_eval'):
        params = node_params(graph_name)
        assert params['sim_bridge']['lockstep'] is True
        assert params['policy_node']['armed'] is True
    assert node_params('train_sim')['policy_node']['explore'] is True
    assert node_params('sim_eval')['policy_node']['explore'] is False
    assert node_params('train_sim')['trainer_node']['reset_service'] == 'sim_bridge/reset'


def test_fleet_sim_is_train_sim_with_one_off_policy_trainer_for_many_robots():
    fleet, single = node_params('fleet_sim'), node_params('train_sim')
    assert fleet['sim_bridge'] == single['sim_bridge']      # each robot: the train_sim bridge
    assert fleet['policy_node']['explore'] is True and fleet['policy_node']['armed'] is True
    assert fleet['trainer_node']['algo'] == 'sac'           # one replay buffer for every robot
    assert fleet['trainer_node']['source_timeout'] > 0
    assert fleet['policy_node']['trusted_artifact_dirs'] == [fleet['trainer_node']['output_dir']]
