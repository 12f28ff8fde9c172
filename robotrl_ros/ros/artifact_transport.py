# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Policy artifacts over DDS: the trainer publishes them, a policy node on any machine installs.

Topic ``policy_artifacts`` (relative), ``std_msgs/UInt8MultiArray`` whose ``data`` is one bundle
payload (:mod:`robotrl_ros.policy.artifact_bundle`: magic, JSON manifest with names, sizes and
sha256, then the files' bytes; ``layout`` empty), QoS :data:`ARTIFACTS_QOS`: reliable and
transient local with depth 1, so a policy node that joins later still receives the latest
artifact. :class:`ArtifactPublisher` packs and publishes an artifact directory (the trainer);
:class:`ArtifactReceiver` verifies each payload off the control path, installs it under the
node's own ``artifact_dir`` and loads it with the node's trust settings (the policy node), then
hands the artifact to the node like any hot reload: a refusal keeps the running policy.
"""

from __future__ import annotations

import array
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import UInt8MultiArray

from robotrl_ros.policy.artifact import PolicyArtifact, load_artifact, sha256_hex
from robotrl_ros.policy.artifact_bundle import (
    install_bundle,
    pack_artifact,
    prune_installed,
    remove_interrupted,
    unpack_bundle,
)
from robotrl_ros.policy.artifact_files import DEFAULT_MAX_ARTIFACT_BYTES
from robotrl_ros.policy.loader import ArtifactLoader
from robotrl_ros.policy.metadata import ArtifactError
from robotrl_ros.ros.params import ParameterError

ARTIFACTS_TOPIC = 'policy_artifacts'
#: Reliable, transient local, depth 1: the latest artifact waits for late subscribers.
ARTIFACTS_QOS = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST,
                           reliability=ReliabilityPolicy.RELIABLE,
                           durability=DurabilityPolicy.TRANSIENT_LOCAL)
#: Installed artifacts kept in ``artifact_dir`` (the running one is never removed).
KEEP_INSTALLED = 3


def bundle_message(payload: bytes) -> UInt8MultiArray:
    """A ``policy_artifacts`` message carrying ``payload``."""
    msg = UInt8MultiArray()
    msg.data = array.array('B', payload)
    return msg


def message_payload(msg: UInt8MultiArray) -> bytes:
    """The bundle payload of a ``policy_artifacts`` message."""
    data = msg.data
    return data.tobytes() if isinstance(data, array.array) else bytes(data)


class ArtifactPublisher:
    """Publishes artifact directories on ``policy_artifacts`` (an unchanged one only once).

    Args:
        node: The publishing node (the trainer).
        max_bytes: Most bytes packed from one artifact.
        topics: Topic names to publish on (e.g. ``<ns>/policy_artifacts`` for each robot
            namespace a trainer serves); default the relative ``policy_artifacts``.
    """

    def __init__(self, node: Node, max_bytes: int = DEFAULT_MAX_ARTIFACT_BYTES,
                 topics: Sequence[str] = (ARTIFACTS_TOPIC,)) -> None:
        self._node = node
        self._max_bytes = max_bytes
        self._publishers = [node.create_publisher(UInt8MultiArray, topic, ARTIFACTS_QOS)
                            for topic in topics]
        self._last_digest: str | None = None
        self.published = 0

    def publish(self, path: str | Path) -> bool:
        """Pack and publish the artifact at ``path``; whether a message went out.

        A failure to pack (unreadable or oversized files) is logged, never raised: the
        artifact stays available on ``policy_updates`` for this machine.
        """
        try:
            payload = pack_artifact(path, self._max_bytes)
        except (OSError, ArtifactError) as exc:
            self._node.get_logger().error(f'{ARTIFACTS_TOPIC}: cannot pack {path}: {exc}')
            return False
        digest = sha256_hex(payload)
        if digest == self._last_digest:
            return False   # transient local: every subscriber has (or will get) it already
        msg = bundle_message(payload)
        for publisher in self._publishers:
            publisher.publish(msg)
        self._last_digest = digest
        self.published += 1
        return True


class ArtifactReceiver:
    """Installs artifacts received on ``policy_artifacts`` under ``artifact_dir``.

    Verification, the atomic write and the load run in an :class:`ArtifactLoader` thread
    (newest payload wins, ``load_timeout`` abandons a stuck one); a payload that fails any
    check is refused and reported, and the running policy keeps running.

    Args:
        node: The subscribing node (the policy node).
        artifact_dir: The node's own directory for received artifacts (created if missing).
        allow_torchscript: As the node's ``allow_torchscript``.
        max_bytes: As the node's ``max_artifact_bytes``.
        load_timeout: As the node's ``artifact_load_timeout``.
        accept: Called with each loaded artifact; raises to refuse it (e.g. other joints).
        rejected: Called with the error of each refused payload.

    Raises:
        ParameterError: ``artifact_dir`` is empty.
    """

    def __init__(self, node: Node, artifact_dir: str, *, allow_torchscript: bool,
                 max_bytes: int, load_timeout: float,
                 accept: Callable[[PolicyArtifact], None],
                 rejected: Callable[[Exception], None]) -> None:
        if not artifact_dir:
            raise ParameterError("parameter 'artifact_dir' must name a directory when "
                                 'enable_policy_artifacts is true')
        self.artifact_dir = Path(artifact_dir).absolute()
        self.artifact_dir.mkdir(parents=True, exist_ok=True)
        remove_interrupted(self.artifact_dir)
        self._allow_torchscript = allow_torchscript
        self._max_bytes = max_bytes
        self._accept_artifact = accept
        self._reject = rejected
        self._lock = threading.Lock()
        self._payloads: dict[str, bytes] = {}
        self.received = 0
        self.installed = 0
        self.refused = 0
        self.installed_version: str | None = None
        self.installed_path: str | None = None
        self.last_refusal: str | None = None
        self._loader = ArtifactLoader(self._load, self._accept, self._rejected, load_timeout)
        node.create_subscription(UInt8MultiArray, ARTIFACTS_TOPIC, self._on_message,
                                 ARTIFACTS_QOS)

    def _on_message(self, msg: UInt8MultiArray) -> None:
        payload = message_payload(msg)
        with self._lock:
            self.received += 1
            key = f'{ARTIFACTS_TOPIC} message {self.received}'
            self._payloads = {key: payload}   # only the newest waits
        self._loader.request(key)

    def _load(self, key: str) -> PolicyArtifact:
        """Verify, install and load one payload (loader thread)."""
        with self._lock:
            payload = self._payloads.pop(key, None)
        if payload is None:
            raise ArtifactError(f'{key}: superseded by a newer message')
        bundle = unpack_bundle(payload, self._max_bytes, where=key)
        path = install_bundle(bundle, self.artifact_dir)
        return load_artifact(path, allow_torchscript=self._allow_torchscript,
                             trusted_dirs=[self.artifact_dir], max_bytes=self._max_bytes)

    def _accept(self, artifact: PolicyArtifact) -> None:
        self._accept_artifact(artifact)   # raises if the node refuses it
        self.installed += 1
        self.installed_version = artifact.version
        self.installed_path = str(artifact.path)
        prune_installed(self.artifact_dir, [artifact.path], KEEP_INSTALLED)

    def _rejected(self, exc: Exception) -> None:
        self.refused += 1
        self.last_refusal = str(exc)
        self._reject(exc)

    def status(self) -> dict[str, Any]:
        """The ``policy_artifacts`` field of the node's ``~/status``."""
        return {'enabled': True, 'artifact_dir': str(self.artifact_dir),
                'received': self.received, 'installed': self.installed,
                'refused': self.refused, 'installed_version': self.installed_version,
                'installed_path': self.installed_path, 'last_refusal': self.last_refusal}
