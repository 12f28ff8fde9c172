# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""policy_node as a managed (lifecycle) node, as ros2_control controllers and Nav2 nodes are.

The transitions (lifecycle_msgs; ``<node>/change_state``, ``<node>/get_state``):

- ``configure`` (unconfigured → inactive): load the robot (``robot``, ``robot_description``,
  ``joint_limits``), load ``policy_path`` and check it against the robot; every mismatch is
  named in ``~/status``. A bad parameter, an unloadable artifact or one the robot refuses
  returns FAILURE: the node stays unconfigured with the reason logged and in ``~/status``
  (``lifecycle_error``).
- ``activate`` (inactive → active): passive → stand → policy (:meth:`ModeDriver.activate`;
  deferred while the robot's limits are awaited on the ``robot_description`` topic). A refusal
  (e.g. no limits) returns FAILURE: the node stays inactive.
- ``deactivate`` (active → inactive): back to passive through the interface's safe command
  (sent once); no more commands.
- ``cleanup`` (inactive → unconfigured) and ``shutdown`` (any → finalized): release the
  artifact, the robot and the control timers.
- An exception in a transition returns ERROR; ``on_error`` releases everything and the node is
  unconfigured again.

``~/enable`` (std_srvs/SetBool) is the one-call shortcut (:meth:`PolicyNodeLifecycle.
enable_shortcut`): ``true`` from unconfigured or inactive goes to active (configure, then
activate), in active re-enables (after a fault or a joystick disarm); ``false`` goes to
inactive.

The start state (parameter ``autostart``, :func:`start_target`): ``inactive`` by default, or
``active`` with ``armed: true`` (direct runs, simulators); ``unconfigured`` when a launch
file or ``robotrl up`` drives the transitions.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rclpy._rclpy_pybind11 import RCLError
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn

from robotrl_ros.nodes.policy_node_params import AUTOSTART_STATES
from robotrl_ros.policy.artifact import ArtifactError
from robotrl_ros.policy.deploy_robot import DeployRobot, load_deploy_robot
from robotrl_ros.policy.joint_limits import JointLimits, load_node_limits
from robotrl_ros.policy.modes import NO_POLICY_CONTROL_PERIOD
from robotrl_ros.ros.cdr import Float64ArrayWriter
from robotrl_ros.ros.conversions import JointIndex
from robotrl_ros.ros.robot_description import TOPIC_SOURCE, RobotDescriptionLimits

SUCCESS, FAILURE, ERROR = (TransitionCallbackReturn.SUCCESS, TransitionCallbackReturn.FAILURE,
                           TransitionCallbackReturn.ERROR)


def start_target(autostart: str, armed: bool) -> str:
    """The state the node brings itself to at start.

    ``armed: true`` raises ``inactive`` to ``active`` (its meaning before the lifecycle: command
    from the start); ``unconfigured`` stays: whoever manages the node drives it.
    """
    if autostart not in AUTOSTART_STATES:
        raise ValueError(f"parameter 'autostart' must be one of {list(AUTOSTART_STATES)}, "
                         f'got {autostart!r}')
    return 'active' if armed and autostart == 'inactive' else autostart


class PolicyNodeLifecycle(LifecycleNode):
    """The lifecycle transitions of :class:`~robotrl_ros.nodes.policy_node.PolicyNode`.

    ``configure`` loads what :meth:`configure_runtime` names, ``cleanup`` releases it
    (:meth:`release_runtime`); the node provides its parts (``modes``, ``controller``,
    ``control_timers``, ``_new_controller``, ``_use_controller``, ``_install``, ``_load``,
    ``_disarm_for``).
    """

    #: Why the last transition failed (None after a successful one); in ``~/status``.
    lifecycle_error: str | None = None
    #: A bad parameter found by the last ``configure`` (not an artifact problem).
    parameter_error: str | None = None
    #: What the last ``activate`` did (the ``~/enable`` answer).
    activation: str = ''

    modes: Any
    params: Any
    controller: Any
    control_timers: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        service = getattr(self, '_service_change_state', None)
        if service is not None:
            service.callback = self._refusing_impossible_transitions(service.callback)

    def _refusing_impossible_transitions(self, handle: Any) -> Any:
        """``change_state`` that answers ``success: false`` to a transition the state lacks.

        Jazzy's rclpy raises from the service callback for such a request (``ros2 lifecycle set
        /policy_node activate`` while unconfigured), which would end the node's spin; Kilted's
        answers false. Both now answer false and log why.
        """
        def change_state(request: Any, response: Any) -> Any:
            try:
                return handle(request, response)
            except RCLError as exc:
                transition = request.transition.label or request.transition.id
                self.get_logger().error(f'change_state: no transition {transition!r} from the '
                                        f'{self.lifecycle_state} state ({exc})')
                response.success = False
                return response
        return change_state

    @property
    def lifecycle_state(self) -> str:
        """The primary (or transition) state's label: ``unconfigured``, ``inactive``, ..."""
        return self._state_machine.current_state[1]

    def start_lifecycle(self, target: str) -> None:
        """Bring the node to ``target`` at start (:func:`start_target`).

        Raises:
            ValueError: ``configure`` found a bad parameter (a start with a bad configuration
                ends the process with exit code 2, as before the lifecycle).
        """
        if target == 'unconfigured':
            self.get_logger().info('unconfigured: waiting for the configure transition '
                                   '(lifecycle change_state, or ~/enable)')
            return
        if self.trigger_configure() != SUCCESS:
            if self.parameter_error:
                raise ValueError(self.parameter_error)
            return
        if target == 'active':
            self.trigger_activate()

    # --- transitions -------------------------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Unconfigured → inactive: :meth:`configure_runtime`; FAILURE names why."""
        self.parameter_error = None
        try:
            self.configure_runtime()
        except ArtifactError as exc:
            return self._failed('configure', f'cannot load policy: {exc}')
        except ValueError as exc:
            self.parameter_error = str(exc)
            return self._failed('configure', str(exc))
        return self._succeeded('configure')

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Inactive → active: passive → stand → policy; FAILURE names a refusal."""
        ok, message = self.modes.activate()
        if not ok:
            return self._failed('activate', message)
        self.activation = message
        return self._succeeded('activate')

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Active → inactive: the safe command once, then passive."""
        self.modes.enable(False)
        return self._succeeded('deactivate')

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Inactive → unconfigured: :meth:`release_runtime`."""
        self.release_runtime()
        return self._succeeded('cleanup')

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Any → finalized: the safe command if commanding, then release."""
        self.modes.enable(False)   # the safe command, if commanding
        self.release_runtime()
        return self._succeeded('shutdown')

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        """A transition raised: release everything, back to unconfigured."""
        self.lifecycle_error = self.lifecycle_error or f'a transition from {state.label} failed'
        self.get_logger().error(f'lifecycle error from {state.label}: releasing the policy')
        self.modes.enable(False)
        self.release_runtime()
        return SUCCESS   # back to unconfigured

    def _failed(self, transition: str, reason: str) -> TransitionCallbackReturn:
        self.lifecycle_error = f'{transition} failed: {reason}'
        self.get_logger().error(self.lifecycle_error)
        return FAILURE

    def _succeeded(self, transition: str) -> TransitionCallbackReturn:
        self.lifecycle_error = None
        self.get_logger().info(f'{transition}: now {_after[transition]}')
        return SUCCESS

    # --- what configure loads and cleanup releases -----------------------------------------
    def configure_runtime(self) -> None:
        """The ``configure`` transition: robot, limits, a fresh controller, ``policy_path``.

        Raises:
            ValueError: A bad ``robot``, ``robot_description`` or ``joint_limits`` (named).
            ArtifactError: ``policy_path`` cannot be loaded or the robot refuses it.
        """
        p = self.params
        self.release_runtime()   # a configure after a failed one starts afresh
        robot = load_deploy_robot(p.robot, p.robot_description)
        limits = load_node_limits(p.robot_description, p.joint_limits)
        if p.robot:   # the robot file's limits (its description, velocity/effort overrides)
            limits = robot.limits().combine(limits)
        self.robot, self.node_limits, self.modes.robot = robot, limits, robot
        self._use_controller(self._new_controller(limits))
        if not p.robot_description.strip() and not p.robot:   # robot_state_publisher's URDF
            self.description_limits = RobotDescriptionLimits(
                self, self.controller, limits, self._disarm_for,
                on_limits=lambda: self.modes.limits_arrived(),
                on_description=self._on_description)
        if robot is not None:   # the stand before (or without) a policy: robot's order
            self._follow_robot(robot)
        self.configured = True
        if p.policy_path:
            try:
                self._install(self._load(p.policy_path))
            except ArtifactError as exc:
                self.last_reload_error = str(exc)
                self.configured = False
                raise
        else:
            self.get_logger().info('no policy_path: waiting for an artifact on policy_updates '
                                   'or policy_artifacts')

    def release_runtime(self) -> None:
        """``cleanup``/``shutdown``: drop the artifact, the robot and the control timers.

        The robot and the findings of a failed ``configure`` stay reported until the next one.
        """
        self.configured = False
        if self.description_limits is not None:
            self.description_limits.close()
            self.description_limits = None
        self.control_timers.release()
        self._use_controller(self._new_controller(JointLimits()))
        self.node_limits, self._installed, self._last_update = JointLimits(), None, None
        self.index, self._writer, self.missing_joints = None, None, []

    def _follow_robot(self, robot: DeployRobot) -> None:
        """Command in ``robot``'s joint order until a policy runs (the stand)."""
        self.index = JointIndex(robot.joint_names)
        self._writer = Float64ArrayWriter(len(robot.joint_names))
        self.control_timers.set_period(self.params.control_period or NO_POLICY_CONTROL_PERIOD)

    def _on_description(self, text: str) -> None:
        """A usable description on the topic: it is the robot now (joints, limits, pose)."""
        try:
            robot = replace(load_deploy_robot('', text), source=TOPIC_SOURCE)
        except ValueError as exc:
            self.get_logger().error(f'robot_description topic: cannot read the robot: {exc}')
            return
        self.robot = self.modes.robot = robot
        self.node_limits = self.controller.node_limits
        artifact = self.controller.artifact
        if artifact is None:
            self._follow_robot(robot)
            target = self.modes.stand_target()
            if target is not None:
                self.modes.machine.retarget(target)
            return
        try:
            self.modes.check(artifact)
        except ArtifactError as exc:
            self._disarm_for(str(exc))

    # --- ~/enable ----------------------------------------------------------------------------
    def enable_shortcut(self, on: bool) -> tuple[bool, str]:
        """``~/enable``: ``true`` → active (configure, activate as needed); ``false`` → inactive.

        Returns:
            (success, message) of the ``~/enable`` answer.
        """
        state = self.lifecycle_state
        if not on:
            if state == 'active' and self.trigger_deactivate() != SUCCESS:
                return False, self.lifecycle_error or 'deactivate failed'
            return True, 'disarmed'
        if state == 'active':
            return self.modes.enable(True)
        if state == 'unconfigured' and self.trigger_configure() != SUCCESS:
            return False, self.lifecycle_error or 'configure failed'
        if self.lifecycle_state != 'inactive':
            return False, f'cannot enable from the {state} state'
        if self.trigger_activate() != SUCCESS:
            return False, self.lifecycle_error or 'activate failed'
        return True, self.activation


_after = {'configure': 'inactive', 'activate': 'active', 'deactivate': 'inactive',
          'cleanup': 'unconfigured', 'shutdown': 'finalized'}
