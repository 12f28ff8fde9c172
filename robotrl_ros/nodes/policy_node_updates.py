# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""How a policy reaches a running policy_node, and how it is installed.

Four ways in: ``policy_path`` (the operator's choice, loaded at ``configure``; its files are
watched with ``watch_policy_file``), a path announced on ``policy_updates`` (it must resolve
into ``trusted_artifact_dirs``) and artifact bytes (:class:`~robotrl_ros.ros.
artifact_transport.ArtifactReceiver`). Updates load off the control path
(:class:`~robotrl_ros.policy.loader.ArtifactLoader`), are checked against the robot
(:meth:`ModeDriver.check`) and offered to the controller, which swaps them in between two
control steps; a rejected update keeps the running policy and is named in ``~/status``
(``last_reload_error``). :class:`PolicyUpdates` is a mixin of
:class:`~robotrl_ros.nodes.policy_node.PolicyNode`.
"""

from __future__ import annotations

from std_msgs.msg import String

from robotrl_ros.policy.artifact import ArtifactError, PolicyArtifact, load_artifact
from robotrl_ros.policy.loader import ArtifactWatcher
from robotrl_ros.ros.cdr import Float64ArrayWriter
from robotrl_ros.ros.conversions import JointIndex
from robotrl_ros.ros.status import status_message


class PolicyUpdates:
    """policy_node's loading and installing of artifacts (a mixin of ``PolicyNode``)."""

    def _load(self, path: str) -> PolicyArtifact:
        """``policy_path`` (the operator's own choice): file checks, no directory allow-list."""
        return self.modes.check(load_artifact(
            path, allow_torchscript=self.params.allow_torchscript,
            max_bytes=self.params.max_artifact_bytes))

    def _load_update(self, path: str) -> PolicyArtifact:
        """An update's path: it must resolve into a trusted directory (loader thread)."""
        self._require_configured()
        return self.modes.check(load_artifact(
            path, allow_torchscript=self.params.allow_torchscript,
            trusted_dirs=self.trusted_dirs, max_bytes=self.params.max_artifact_bytes))

    def _install(self, artifact: PolicyArtifact) -> None:
        self.controller.offer(artifact)
        self.controller.apply_pending()
        self._sync_artifact()

    def _sync_artifact(self) -> None:
        """Follow a newly installed artifact: joint mapping, inputs, control timer, log line."""
        artifact = self.controller.artifact
        if artifact is None or artifact is self._installed:
            return
        self._installed = artifact
        order_changed = self.index is None or self.index.joint_names != artifact.spec.joint_names
        if order_changed:
            self.index = JointIndex(artifact.spec.joint_names)
            self._writer = Float64ArrayWriter(len(artifact.spec.joint_names))
        self.modes.new_policy(order_changed)
        self.inputs.follow(artifact)
        self.get_logger().info(f'running policy {artifact.version} ({artifact.spec.name}, '
                               f'{artifact.algorithm}) from {artifact.path}; joints '
                               f'{list(artifact.spec.joint_names)}')
        if self.configured:   # a trainer tags what this node acts by it: report it at once
            self.status_pub.publish(status_message(self.status()))
        # Timer mode: the control rate. on_message mode: the rate of hold commands once the
        # watchdog found the states stale.
        self.control_timers.set_period(self.params.control_period or artifact.spec.control_period)

    def _install_loaded(self) -> None:
        """Install a loaded update between states, not only at the next one.

        An on-policy trainer pauses its lockstep simulator after each update until this node
        reports the new policy: no state would come to install it at.
        """
        if self.configured and self.controller.has_pending:
            self.controller.apply_pending()
            self._sync_artifact()

    def _require_configured(self) -> None:
        if not self.configured:
            raise ArtifactError('policy_node is unconfigured (lifecycle): no robot to check '
                                'an artifact against; configure it first')

    def _on_reloaded(self, artifact: PolicyArtifact) -> None:
        self._require_configured()
        self.controller.offer(artifact)   # raises for another robot's joints: rejected
        self.last_reload_error = None

    def _on_reload_failure(self, exc: Exception) -> None:
        self._last_update = None   # announced again: tried again
        self.controller.counts['reload_failures'] += 1
        self.last_reload_error = str(exc)
        self.get_logger().error(f'policy update rejected, keeping the running policy: {exc}')

    def _on_policy_update(self, msg: String) -> None:
        last = self._last_update
        if last is not None and last.path == msg.data and not last.changed():
            # A trainer re-announces its latest artifact while nobody commands (a node may
            # have missed it): the same unchanged files are not loaded again.
            return
        self.get_logger().info(f'policy update: {msg.data}')
        self._last_update = ArtifactWatcher(msg.data)
        self.loader.request(msg.data)

    def _check_policy_file(self) -> None:
        if self.watcher.changed():
            self.get_logger().info(f'{self.params.policy_path} changed: reloading')
            self.loader.request(self.params.policy_path)   # always trusted
