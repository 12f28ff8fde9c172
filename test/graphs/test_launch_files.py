# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""launch/*.launch.py against the graph table, setup.py's console scripts and docs/launch.md.

Runs everywhere by reading the launch files' syntax tree; where launch_ros is installed the
launch descriptions are also built and their declared arguments compared with the table.
"""

import ast
import importlib.util
import re
from pathlib import Path

import pytest

from robotrl_ros.graphs.definitions import COMMON_ARGUMENTS, GRAPHS, parameter_overrides

ROOT = Path(__file__).resolve().parents[2]
LAUNCH_FILES = sorted((ROOT / 'launch').glob('*.launch.py'))


def _tree(graph_name: str) -> ast.Module:
    return ast.parse((ROOT / 'launch' / GRAPHS[graph_name].launch_file).read_text())


def _started_nodes(tree: ast.Module) -> list[str]:
    """Node names passed to graph_node(context, '<name>', ...) in the launch file, in order."""
    calls = [call for call in ast.walk(tree)
             if isinstance(call, ast.Call) and getattr(call.func, 'id', '') == 'graph_node']
    return [call.args[1].value for call in sorted(calls, key=lambda c: c.lineno)]


def _console_scripts() -> set[str]:
    text = (ROOT / 'setup.py').read_text()
    block = text.split("'console_scripts'", 1)[1].split(']', 1)[0]
    return set(re.findall(r"'(\w+) = [\w.]+:\w+'", block))


def test_one_launch_file_per_graph():
    assert [p.name for p in LAUNCH_FILES] == sorted(g.launch_file for g in GRAPHS.values())


@pytest.mark.parametrize('graph_name', sorted(GRAPHS))
def test_launch_file_starts_the_graph_nodes(graph_name):
    tree = _tree(graph_name)
    assert _started_nodes(tree) == list(GRAPHS[graph_name].nodes)
    graph_keys = [node.slice.value for node in ast.walk(tree)
                  if isinstance(node, ast.Subscript) and getattr(node.value, 'id', '') == 'GRAPHS']
    assert graph_keys == [graph_name], 'the launch file must describe its own graph'
    assert 'def generate_launch_description()' in ast.unparse(tree)


@pytest.mark.parametrize('graph_name', sorted(GRAPHS))
def test_every_executable_is_a_console_script(graph_name):
    scripts = _console_scripts()
    assert {'sim_bridge', 'policy_node', 'trainer_node', 'robotrl'} <= scripts
    missing = [node for node in GRAPHS[graph_name].nodes if node not in scripts]
    assert not missing, f'{graph_name} starts {missing}, which setup.py does not install'


def test_launch_support_builds_nodes_from_executable_names():
    text = (ROOT / 'robotrl_ros' / 'graphs' / 'launch_support.py').read_text()
    assert "action = LifecycleNode if name in MANAGED_NODES else Node" in text
    assert "return action(package=PACKAGE, executable=name, name=name" in text
    assert "parameters=[LaunchConfiguration('params_file').perform(context), typed]" in text


@pytest.mark.parametrize('graph_name', sorted(GRAPHS))
def test_every_launch_argument_is_documented(graph_name):
    docs = (ROOT / 'docs' / 'launch.md').read_text()
    section = docs.split(f'### {GRAPHS[graph_name].launch_file}', 1)
    assert len(section) == 2, f'docs/launch.md has no section ### {GRAPHS[graph_name].launch_file}'
    body = section[1].split('\n### ', 1)[0]
    for arg in (*COMMON_ARGUMENTS, *GRAPHS[graph_name].arguments):
        assert f'| `{arg.name}` |' in body, f'docs/launch.md does not document {arg.name}'


@pytest.mark.parametrize('graph_name', sorted(GRAPHS))
def test_arguments_map_to_typed_overrides(graph_name):
    graph = GRAPHS[graph_name]
    samples = {'str': 'x', 'bool': 'True', 'int': '7', 'float': '1', 'float_array': '[1, 2.5]',
               'int_array': '[0, 2]'}
    expected = {'str': 'x', 'bool': True, 'int': 7, 'float': 1.0, 'float_array': [1.0, 2.5],
                'int_array': [0, 2]}
    values = {arg.name: 'a1' if arg.description_targets else samples[arg.type]
              for arg in graph.arguments if arg.targets or arg.description_targets}
    overrides = parameter_overrides(graph, values)
    for arg in graph.arguments:
        for node, param in arg.targets:
            value = overrides[node][param]
            if arg.name == 'n_robots':   # a count: the trainer gets the robots' namespaces
                assert value == [f'robot{i}' for i in range(1, 8)]
                continue
            if arg.description_targets:   # a robot name, passed as given
                assert value == 'a1'
                continue
            assert value == expected[arg.type] and type(value) is type(expected[arg.type])


def test_deploy_robot_gives_the_policy_node_its_description_unless_one_is_given():
    from robotrl_ros.tasks.robots import load_robot
    from robotrl_ros.tasks.robots.description import description_path

    deploy = GRAPHS['deploy']
    a1 = description_path(load_robot('a1')).read_text()
    overrides = parameter_overrides(deploy, {'policy_path': 'p', 'robot': 'a1'})
    assert overrides['policy_node']['robot_description'] == a1
    assert overrides['policy_node']['robot'] == 'a1'   # its stand pose and gains
    given = parameter_overrides(deploy, {'policy_path': 'p', 'robot': 'a1',
                                         'robot_description': '<robot name="mine"/>'})
    assert given['policy_node']['robot_description'] == '<robot name="mine"/>'
    with pytest.raises(ValueError, match="argument robot: unknown robot 'a2'"):
        parameter_overrides(deploy, {'policy_path': 'p', 'robot': 'a2'})
    for name in ('train_sim', 'sim_eval'):   # simulated graphs: the sim bridge's parameters
        graph = GRAPHS[name]
        for arg in ('robot', 'robot_description'):
            assert ('sim_bridge', arg) in graph.argument(arg).targets


def test_empty_arguments_keep_the_yaml_values():
    overrides = parameter_overrides(GRAPHS['train_sim'], {'task': '', 'seed': ''})
    assert overrides == {'sim_bridge': {}, 'policy_node': {}, 'trainer_node': {}}
    deploy = parameter_overrides(GRAPHS['deploy'], {'policy_path': '/p'})
    assert deploy == {'policy_node': {'policy_path': '/p', 'armed': False}}  # safe default


@pytest.mark.parametrize(('graph_name', 'values', 'message'), [
    ('deploy', {}, 'needs the argument policy_path'),
    ('deploy', {'policy_path': 'p', 'armed': 'yes'}, 'argument armed: expected bool'),
    ('deploy', {'policy_path': 'p', 'state_timeout': 'fast'}, 'argument state_timeout'),
    ('train_sim', {'seed': '1.5'}, 'argument seed: expected int'),
    ('train_sim', {'tsak': 'reach'}, "no launch argument(s) ['tsak']"),
    ('fleet_sim', {'n_robots': '0'}, 'argument n_robots: expected 1..64, got 0'),
    ('fleet_sim', {'n_robots': 'two'}, 'argument n_robots: expected int'),
    ('sim_eval', {'policy_path': 'p', 'dr_mass_scale': '1.2'}, 'expected a list'),
    ('sim_eval', {'policy_path': 'p', 'dr_latency_steps': '[0.5, 1]'}, 'entries must be int'),
])
def test_bad_arguments_are_named(graph_name, values, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parameter_overrides(GRAPHS[graph_name], values)


def test_unknown_graph_and_argument_are_named():
    from robotrl_ros.graphs.definitions import get_graph
    with pytest.raises(ValueError, match="unknown graph 'train'.*train_sim"):
        get_graph('train')
    with pytest.raises(KeyError, match="no launch argument 'x'"):
        GRAPHS['deploy'].argument('x')


@pytest.mark.skipif(importlib.util.find_spec('launch_ros') is None,
                    reason='launch_ros not installed (ROS 2 install only)')
@pytest.mark.parametrize('graph_name', sorted(GRAPHS))
def test_launch_description_declares_the_table_arguments(graph_name):
    from launch.actions import DeclareLaunchArgument
    from launch.launch_description_sources import get_launch_description_from_python_launch_file

    path = ROOT / 'launch' / GRAPHS[graph_name].launch_file
    description = get_launch_description_from_python_launch_file(str(path))
    declared = {a.name: a for a in description.entities if isinstance(a, DeclareLaunchArgument)}
    graph = GRAPHS[graph_name]
    assert set(declared) == {a.name for a in (*COMMON_ARGUMENTS, *graph.arguments)}
    for arg in graph.arguments:
        assert (declared[arg.name].default_value is None) == (arg.default is None), arg.name


@pytest.mark.skipif(importlib.util.find_spec('launch_ros') is None,
                    reason='launch_ros not installed (ROS 2 install only)')
@pytest.mark.parametrize(('graph_name', 'arguments', 'active'), [
    ('deploy', {'policy_path': '/p'}, False),
    ('deploy', {'policy_path': '/p', 'armed': 'true'}, True),
    ('train_sim', {}, True), ('sim_eval', {'policy_path': '/p'}, True),
    ('fleet_sim', {'n_robots': '2'}, True),
])
def test_launch_brings_the_policy_nodes_to_the_graph_state(graph_name, arguments, active):
    from launch.actions import EmitEvent, OpaqueFunction, RegisterEventHandler
    from launch.launch_context import LaunchContext
    from launch.launch_description_sources import get_launch_description_from_python_launch_file
    from launch_ros.actions import LifecycleNode
    from launch_ros.event_handlers import OnStateTransition
    from launch_ros.events.lifecycle import ChangeState
    from lifecycle_msgs.msg import Transition

    path = ROOT / 'launch' / GRAPHS[graph_name].launch_file
    description = get_launch_description_from_python_launch_file(str(path))
    context = LaunchContext()
    context.launch_configurations.update({'params_file': '/config.yaml', **arguments})
    for entity in description.entities:
        if not isinstance(entity, OpaqueFunction):
            entity.visit(context)   # the declared arguments' defaults
    nodes = next(e for e in description.entities if isinstance(e, OpaqueFunction))
    actions = nodes.execute(context)
    managed = [a for a in actions if isinstance(a, LifecycleNode)]
    assert [a.node_executable for a in managed] == ['policy_node'] * (
        2 if graph_name == 'fleet_sim' else 1)
    assert all(getattr(a, 'node_executable', '') != 'policy_node' for a in actions
               if not isinstance(a, LifecycleNode))
    configures = [a.event for a in actions if isinstance(a, EmitEvent)]
    assert len(configures) == len(managed)
    assert all(isinstance(e, ChangeState) and e.transition_id == Transition.TRANSITION_CONFIGURE
               for e in configures)
    handlers = [a.event_handler for a in actions if isinstance(a, RegisterEventHandler)]
    assert len(handlers) == (len(managed) if active else 0)
    for handler in handlers:
        assert isinstance(handler, OnStateTransition)
        [activate] = handler.describe()[1]
        assert activate.event.transition_id == Transition.TRANSITION_ACTIVATE
