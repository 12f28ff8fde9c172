# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The node graphs users start, as plain data: nodes, launch arguments, parameter targets.

One table serves ``robotrl up`` (which starts the graphs without ``ros2 launch``) and the tests
that check ``launch/*.launch.py`` and ``config/*.yaml`` against each other. The launch files spell
the same graphs out with launch_ros so they stay readable for ROS users.

Every node reads its parameters from ``config/<graph>.yaml`` (keys ``/**/<node name>`` so a
namespace still matches); a launch argument left empty keeps the YAML value, a non-empty one
overrides the parameters it targets.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The parameter types a launch argument can carry (ROS parameter types).
PARAM_TYPES = ('str', 'bool', 'int', 'float', 'float_array', 'int_array')


@dataclass(frozen=True)
class LaunchArgument:
    """One launch argument and the node parameters it sets.

    Attributes:
        name: Argument name (``ros2 launch ... name:=value``, ``robotrl up --set name:=value``).
        description: One line for ``ros2 launch --show-args`` and docs/launch.md.
        targets: ``(node, parameter)`` pairs the value is written to.
        type: ROS parameter type of the value (one of :data:`PARAM_TYPES`).
        default: Value used when the argument is not given; ``''`` keeps the YAML value,
            ``None`` makes the argument required.
        list_targets: ``(node, parameter)`` pairs of string-list parameters that receive the
            value as a one-item list (``output_dir`` -> the policy node's
            ``trusted_artifact_dirs``).
        description_targets: ``(node, parameter)`` pairs that receive the description XML
            (URDF text, a xacro expanded) of the robot the value names: a built-in robot or
            a robot YAML path (deploy's ``robot`` -> the policy node's ``robot_description``).
            A later argument that sets the same parameter (``robot_description``) wins.
    """

    name: str
    description: str
    targets: tuple[tuple[str, str], ...]
    type: str = 'str'
    default: str | None = ''
    list_targets: tuple[tuple[str, str], ...] = ()
    description_targets: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Graph:
    """A launchable graph: ``launch/<name>.launch.py`` + ``config/<name>.yaml``.

    Attributes:
        name: Graph name (``train_sim``, ``fleet_sim``, ``deploy``, ``sim_eval``).
        description: What the graph is for.
        nodes: Node names, which are also their console-script executables.
        arguments: Launch arguments besides ``namespace`` and ``params_file``, which every
            graph has.
        robot_nodes: Nodes started once per robot, in the namespaces ``robot1`` ..
            ``robot<n_robots>`` (:func:`robot_namespaces`) under the graph's ``namespace``; the
            others run once, in the graph's ``namespace``.
        policy_state: The lifecycle state the launch file and ``robotrl up`` bring each
            policy node to (:data:`MANAGED_NODES`): ``active`` (commanding), or ``inactive``
            (configured, waiting for ``~/enable``; ``active`` when ``armed`` is true).
    """

    name: str
    description: str
    nodes: tuple[str, ...]
    arguments: tuple[LaunchArgument, ...]
    robot_nodes: tuple[str, ...] = ()
    policy_state: str = 'active'

    def lifecycle_target(self, overrides: dict[str, dict[str, object]]) -> str:
        """The policy nodes' target state given the parameter overrides (``armed``)."""
        armed = overrides.get('policy_node', {}).get('armed') is True
        return 'active' if armed else self.policy_state

    @property
    def config_file(self) -> str:
        """File name of the graph's parameter YAML under ``config/``."""
        return f'{self.name}.yaml'

    @property
    def launch_file(self) -> str:
        """File name of the graph's launch file under ``launch/``."""
        return f'{self.name}.launch.py'

    def argument(self, name: str) -> LaunchArgument:
        """The argument called ``name``.

        Raises:
            KeyError: No such argument, with the list of valid ones.
        """
        for arg in self.arguments:
            if arg.name == name:
                return arg
        valid = ', '.join(a.name for a in self.arguments) + ', namespace, params_file'
        raise KeyError(f'{self.name} has no launch argument {name!r}; valid: {valid}')


#: Managed (lifecycle) nodes: started ``autostart: unconfigured`` by the launch files and
#: ``robotrl up``, which then drive them to the graph's ``policy_state``.
MANAGED_NODES = ('policy_node',)

#: Arguments common to every graph (not parameter overrides).
COMMON_ARGUMENTS = (
    LaunchArgument('namespace', 'ROS namespace for every node (two robots side by side)', ()),
    LaunchArgument('params_file', 'ros__parameters YAML replacing config/<graph>.yaml', ()),
)

_DR = (
    ('dr_mass_scale', 'link mass scale range [lo, hi] (shifted dynamics)', 'float_array'),
    ('dr_friction_scale', 'friction scale range [lo, hi] (shifted dynamics)', 'float_array'),
    ('dr_gain_scale', 'actuator gain scale range [lo, hi] (shifted dynamics)', 'float_array'),
    ('dr_latency_steps', 'command latency range in control steps [lo, hi]', 'int_array'),
    ('dr_obs_noise_std', 'Gaussian joint-state noise standard deviation', 'float'),
    ('dr_push_interval', 'floating base: seconds of sim time between random pushes (0 = none)',
     'float'),
    ('dr_push_velocity', 'floating base: largest planar velocity change of a push (m/s)',
     'float'),
    ('dr_imu_noise_std', 'floating base: Gaussian IMU and base twist noise std', 'float'),
)


#: Most robots a fleet graph starts on one machine.
MAX_ROBOTS = 64


def robot_namespaces(n_robots: int) -> list[str]:
    """The robots' namespaces of a fleet graph: ``robot1`` .. ``robot<n_robots>``.

    Raises:
        ValueError: ``n_robots`` outside 1..:data:`MAX_ROBOTS`.
    """
    if not 1 <= n_robots <= MAX_ROBOTS:
        raise ValueError(f'argument n_robots: expected 1..{MAX_ROBOTS}, got {n_robots}')
    return [f'robot{i}' for i in range(1, n_robots + 1)]


def _robot_arguments(nodes: tuple[str, ...]) -> tuple[LaunchArgument, LaunchArgument]:
    """``robot`` and ``robot_description`` for the nodes that simulate or score the robot."""
    return (
        LaunchArgument('robot', "robot of locomotion / ee_reach: built-in name (a1, panda, "
                       "...) or robot YAML path ('' = the task's default)",
                       tuple((node, 'robot') for node in nodes)),
        LaunchArgument('robot_description', 'the robot\'s URDF XML, e.g. "$(xacro '
                       'robot.urdf.xacro)" (\'\' = the robot file\'s description)',
                       tuple((node, 'robot_description') for node in nodes)),
    )


def _deploy_robot_arguments() -> tuple[LaunchArgument, LaunchArgument]:
    """``robot`` and ``robot_description`` of deploy: the policy node's robot description."""
    return (
        LaunchArgument('robot', "the robot: built-in name (a1, panda, ...) or robot YAML path; "
                       "the policy node's robot (default pose, gains, limits) and its "
                       "description (URDF) the policy node's robot_description ('' = none)",
                       (('policy_node', 'robot'),),
                       description_targets=(('policy_node', 'robot_description'),)),
        LaunchArgument('robot_description', 'the robot\'s URDF XML, e.g. "$(xacro '
                       'robot.urdf.xacro)", or a .urdf path: joint limits and the artifact '
                       'check (wins over robot)', (('policy_node', 'robot_description'),)),
    )


GRAPHS: dict[str, Graph] = {
    'train_sim': Graph(
        name='train_sim',
        description='train in simulation through ROS: sim bridge + exploring policy + trainer',
        nodes=('sim_bridge', 'policy_node', 'trainer_node'),
        arguments=(
            LaunchArgument('task', 'task name (reach, reach_discrete, ...)',
                           (('sim_bridge', 'task'), ('trainer_node', 'task'))),
            LaunchArgument('algo', 'algorithm (ppo, sac, dqn, reinforce, q_learning)',
                           (('trainer_node', 'algo'),)),
            # The policy node loads updates only from inside the run directory.
            LaunchArgument('output_dir', 'run directory for checkpoints, artifacts and logs',
                           (('trainer_node', 'output_dir'),),
                           list_targets=(('policy_node', 'trusted_artifact_dirs'),)),
            # Not the trainer: in lockstep, sim time only advances when the policy commands,
            # and the policy only commands once the trainer's (timer-driven) first artifact
            # arrives; the trainer pairs transitions by message stamps (sim time) anyway.
            LaunchArgument('use_sim_time', 'the policy node follows the sim bridge clock',
                           (('policy_node', 'use_sim_time'), ('sim_bridge', 'publish_clock')),
                           'bool'),
            LaunchArgument('seed', 'random seed of the simulator and the learner',
                           (('sim_bridge', 'seed'), ('trainer_node', 'seed')), 'int'),
            LaunchArgument('config', "hyperparameter YAML for the algorithm ('' = defaults)",
                           (('trainer_node', 'config'),)),
            *_robot_arguments(('sim_bridge', 'trainer_node')),
        ),
    ),
    'fleet_sim': Graph(
        name='fleet_sim',
        description='fleet learning in simulation: n_robots namespaced sim bridge + exploring '
                    'policy pairs feeding one trainer',
        nodes=('sim_bridge', 'policy_node', 'trainer_node'),
        robot_nodes=('sim_bridge', 'policy_node'),
        arguments=(
            LaunchArgument('n_robots', 'simulated robots, in namespaces robot1 .. robot<n> '
                           "(the trainer's robot_namespaces)",
                           (('trainer_node', 'robot_namespaces'),), 'int', default='2'),
            LaunchArgument('task', 'task name (reach, reach_discrete, ...)',
                           (('sim_bridge', 'task'), ('trainer_node', 'task'))),
            LaunchArgument('algo', 'algorithm (sac, dqn: one replay buffer; ppo, reinforce)',
                           (('trainer_node', 'algo'),)),
            LaunchArgument('output_dir', 'run directory for checkpoints, artifacts and logs',
                           (('trainer_node', 'output_dir'),),
                           list_targets=(('policy_node', 'trusted_artifact_dirs'),)),
            # Robot i's simulator gets seed + i - 1: the robots see different episodes.
            LaunchArgument('seed', 'random seed of the learner; robot i simulates seed + i - 1',
                           (('sim_bridge', 'seed'), ('trainer_node', 'seed')), 'int',
                           default='0'),
            LaunchArgument('config', "hyperparameter YAML for the algorithm ('' = defaults)",
                           (('trainer_node', 'config'),)),
        ),
    ),
    'deploy': Graph(
        name='deploy',
        description='run a policy artifact on a real robot through ros2_control topics',
        nodes=('policy_node',),
        policy_state='inactive',
        arguments=(
            LaunchArgument('policy_path', 'policy artifact directory (required)',
                           (('policy_node', 'policy_path'),), default=None),
            LaunchArgument('command_topic', 'forward controller command topic',
                           (('policy_node', 'command_topic'),)),
            LaunchArgument('state_timeout', 'seconds without joint_states before the node '
                           'stops commanding', (('policy_node', 'state_timeout'),), 'float'),
            LaunchArgument('armed', 'publish commands from the start (else call ~/enable)',
                           (('policy_node', 'armed'),), 'bool', default='false'),
            LaunchArgument('joint_limits', "the robot's joint_limits YAML (ros2_control style); "
                           'without it or robot_description the node refuses to arm',
                           (('policy_node', 'joint_limits'),)),
            *_deploy_robot_arguments(),
        ),
    ),
    'sim_eval': Graph(
        name='sim_eval',
        description='sim-to-sim check of an artifact, optionally with shifted dynamics',
        nodes=('sim_bridge', 'policy_node'),
        arguments=(
            LaunchArgument('policy_path', 'policy artifact directory (required)',
                           (('policy_node', 'policy_path'),), default=None),
            LaunchArgument('task', "simulated task (must match the artifact's task)",
                           (('sim_bridge', 'task'),)),
            LaunchArgument('seed', 'random seed of the simulator', (('sim_bridge', 'seed'),),
                           'int'),
            *_robot_arguments(('sim_bridge',)),
            LaunchArgument('use_sim_time', 'the policy node follows the sim bridge clock',
                           (('policy_node', 'use_sim_time'), ('sim_bridge', 'publish_clock')),
                           'bool'),
            *(LaunchArgument(name, desc, (('sim_bridge', name),), kind)
              for name, desc, kind in _DR),
        ),
    ),
}


def get_graph(name: str) -> Graph:
    """Graph by name.

    Raises:
        ValueError: Unknown graph, with the list of valid names.
    """
    try:
        return GRAPHS[name]
    except KeyError:
        raise ValueError(f'unknown graph {name!r}; choose one of: {", ".join(GRAPHS)}') \
            from None


def _parse_list(name: str, text: str, item: type) -> list:
    body = text.strip()
    if not (body.startswith('[') and body.endswith(']')):
        raise ValueError(f'argument {name}: expected a list like [0.8, 1.2], got {text!r}')
    try:
        return [item(part) for part in body[1:-1].split(',') if part.strip()]
    except ValueError:
        raise ValueError(f'argument {name}: list entries must be {item.__name__}, got {text!r}') \
            from None


def convert_argument(arg: LaunchArgument, text: str) -> str | bool | int | float | list:
    """Typed parameter value of a launch argument given as text.

    Raises:
        ValueError: The text is not a valid value of the argument's type; the message names it.
    """
    try:
        if arg.type == 'bool':
            if text.lower() not in ('true', 'false'):
                raise ValueError
            return text.lower() == 'true'
        if arg.type == 'int':
            return int(text)
        if arg.type == 'float':
            return float(text)
    except ValueError:
        raise ValueError(f'argument {arg.name}: expected {arg.type}, got {text!r}') from None
    if arg.type == 'float_array':
        return _parse_list(arg.name, text, float)
    if arg.type == 'int_array':
        return _parse_list(arg.name, text, int)
    return text


def parameter_overrides(graph: Graph, values: dict[str, str]) -> dict[str, dict[str, object]]:
    """Per-node parameter overrides from launch argument values (text, as on a command line).

    An argument missing from ``values`` takes its default; an empty value keeps the YAML value.

    Returns:
        ``{node: {parameter: typed value}}`` with an entry (maybe empty) for every node.

    Raises:
        ValueError: An unknown argument, a required one that is missing or a badly typed value.
    """
    known = {a.name for a in graph.arguments} | {a.name for a in COMMON_ARGUMENTS}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f'{graph.name} has no launch argument(s) {unknown}; valid: '
                         f'{", ".join(sorted(known))}')
    overrides: dict[str, dict[str, object]] = {node: {} for node in graph.nodes}
    for arg in graph.arguments:
        text = values.get(arg.name, arg.default)
        if text is None:
            raise ValueError(f'{graph.name} needs the argument {arg.name} ({arg.description})')
        if text == '':
            continue
        value = convert_argument(arg, text)
        for node, param in arg.targets:
            overrides[node][param] = value
        for node, param in arg.list_targets:
            overrides[node][param] = [str(value)]
        if arg.description_targets:
            description = robot_description_of(arg.name, str(value))
            for node, param in arg.description_targets:
                overrides[node][param] = description
    if graph.robot_nodes:   # n_robots is a count: the trainer gets the robots' namespaces
        overrides['trainer_node']['robot_namespaces'] = robot_namespaces(
            int(overrides['trainer_node']['robot_namespaces']))
    return overrides


def robot_description_of(argument: str, robot: str) -> str:
    """The description XML of ``robot`` (built-in name or robot YAML path), a xacro expanded.

    Raises:
        ValueError: Unknown robot, bad robot file or unreadable description, naming the
            argument.
    """
    from robotrl_ros.tasks.robots.config import RobotConfigError, load_robot
    from robotrl_ros.tasks.robots.description import description_text
    from robotrl_ros.tasks.robots.resolve import DescriptionError

    try:
        return description_text(load_robot(robot))[0]
    except (RobotConfigError, DescriptionError) as exc:
        raise ValueError(f'argument {argument}: {exc}') from None


def robot_overrides(graph: Graph, overrides: dict[str, dict[str, object]]
                    ) -> dict[str, dict[str, dict[str, object]]]:
    """``{robot namespace: {node: parameters}}`` of a fleet graph's per-robot nodes.

    Each robot's nodes get the graph's overrides, robot i's ``sim_bridge`` the seed
    ``seed + i - 1``, so the robots do not repeat each other's episodes.
    """
    robots = {}
    for index, ns in enumerate(overrides['trainer_node']['robot_namespaces']):
        per_robot = {node: dict(overrides[node]) for node in graph.robot_nodes}
        if 'seed' in per_robot.get('sim_bridge', {}):
            per_robot['sim_bridge']['seed'] = int(per_robot['sim_bridge']['seed']) + index
        robots[ns] = per_robot
    return robots
