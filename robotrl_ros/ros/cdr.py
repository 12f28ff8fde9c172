# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The control loop's two messages as serialized (CDR) bytes: JointState in, commands out.

rclpy turns every message it takes into Python objects: for a 12-joint JointState that is a
header, 12 name strings and three ``array('d')`` copies, 25 us of a 500 Hz control step here
(67 us on a cold cache). The policy node subscribes with ``raw=True`` instead and reads only
what it uses: the stamp, the name list (decoded once per distinct list) and the three value
arrays as NumPy views on the bytes. Likewise it publishes each command as the bytes of a
std_msgs/Float64MultiArray (:class:`Float64ArrayWriter`), skipping rclpy's conversion of a
Python message.

Plain CDR (XCDR1), the serialized form every ROS 2 RMW and rosbag2 use, is read (either byte
order) and written (little-endian). Reading any other encapsulation raises
:class:`CdrFormatError`; :func:`read_joint_state` then falls back to
``rclpy.serialization.deserialize_message``.

The reader either returns exactly what ``deserialize_message`` gives or refuses the bytes
(test/ros/test_cdr.py fuzzes both byte orders against it): like Fast CDR it ends the payload
``options & 3`` bytes early (the encapsulation's padding count); it refuses what rclpy would
read differently: a string without its NUL terminator or with a NUL inside, names that are not
UTF-8 (rclpy substitutes U+FFFD), and a ``nanosec`` of one second or more.
"""

from __future__ import annotations

import struct

import numpy as np
from rclpy.serialization import deserialize_message
from sensor_msgs.msg import JointState

from robotrl_ros.ros.conversions import JointStateSample

_ORIGIN = 4   # CDR alignment counts from the end of the 4-byte encapsulation header
#: Encapsulation id (big-endian uint16 in bytes 0-1) -> struct / NumPy byte order.
_ENCAPSULATIONS = {0x0000: '>', 0x0001: '<'}   # CDR_BE, CDR_LE
_MAX_NAMES_CACHED = 64


class CdrFormatError(ValueError):
    """The bytes are not a plain-CDR sensor_msgs/JointState (truncated, or other encoding)."""


class JointStateReader:
    """Parses serialized JointState messages, caching decoded name lists by their bytes."""

    def __init__(self) -> None:
        self._names: dict[bytes, tuple[str, ...]] = {}
        self._last_names = b''
        self._last_decoded: tuple[str, ...] = ()

    def read(self, data: bytes) -> JointStateSample:
        """Parse one serialized message.

        Raises:
            CdrFormatError: Not plain CDR, or truncated / inconsistent lengths.
        """
        try:
            order = _ENCAPSULATIONS[int.from_bytes(data[:2], 'big')]
        except KeyError:
            raise CdrFormatError(f'encapsulation 0x{bytes(data[:2]).hex()} is not plain CDR '
                                 '(XCDR1)') from None
        if len(data) > 3 and data[3] & 3:   # padding bytes at the end of the payload
            data = data[:len(data) - (data[3] & 3)]
        try:
            sec, nanosec, frame_len = struct.unpack_from(order + 'iII', data, _ORIGIN)
            if nanosec >= 1_000_000_000:
                raise ValueError(f'header.stamp.nanosec {nanosec} is not below 1e9')
            start = _align(_ORIGIN + 12 + frame_len, 4)
            if start > len(data):
                raise ValueError(f'frame_id of {frame_len} bytes')
            if self._last_names and data.startswith(self._last_names, start):
                names, offset = self._last_decoded, start + len(self._last_names)
            else:
                names, offset = self._read_names(data, start, order)
            position, offset = _doubles(data, offset, order)
            velocity, offset = _doubles(data, offset, order)
            effort, _ = _doubles(data, offset, order)
        except (struct.error, ValueError, UnicodeDecodeError) as exc:
            raise CdrFormatError(f'malformed JointState CDR ({len(data)} bytes): {exc}') from exc
        return JointStateSample(sec + 1e-9 * nanosec, names, position, velocity, effort)

    def _read_names(self, data: bytes, start: int, order: str) -> tuple[tuple[str, ...], int]:
        (count,) = struct.unpack_from(order + 'I', data, start)
        if count > len(data):
            raise ValueError(f'{count} names in {len(data)} bytes')
        offset = start + 4
        ends = []
        for _ in range(count):
            offset = _align(offset, 4)
            (length,) = struct.unpack_from(order + 'I', data, offset)
            if length < 1 or offset + 4 + length > len(data) or data[offset + 3 + length]:
                raise ValueError(f'name of {length} bytes at offset {offset} (NUL-terminated '
                                 'within the message)')
            ends.append((offset + 4, offset + 3 + length))   # without the terminating NUL
            offset += 4 + length
        key = bytes(data[start:offset])
        names = self._names.get(key)
        if names is None:
            raw = [bytes(data[a:b]) for a, b in ends]
            if any(b'\x00' in name for name in raw):
                raise ValueError('a name contains a NUL byte')
            names = tuple(name.decode('utf-8') for name in raw)
            if len(self._names) >= _MAX_NAMES_CACHED:
                self._names.clear()
            self._names[key] = names
        self._last_names, self._last_decoded = key, names
        return names, offset


def read_joint_state(reader: JointStateReader, data: bytes) -> JointStateSample:
    """``reader.read(data)``, or rclpy's deserialization for encodings it does not read.

    Raises:
        CdrFormatError: If neither can decode ``data``.
    """
    try:
        return reader.read(data)
    except CdrFormatError as exc:
        try:
            return JointStateSample.from_message(deserialize_message(data, JointState))
        except Exception as fallback:  # noqa: BLE001 - rclpy raises several types
            raise CdrFormatError(f'{exc}; rclpy cannot deserialize it either: '
                                 f'{fallback}') from fallback


def _align(offset: int, size: int) -> int:
    return _ORIGIN + ((offset - _ORIGIN + size - 1) & -size)


def _doubles(data: bytes, offset: int, order: str) -> tuple[np.ndarray, int]:
    """A ``sequence<float64>`` at ``offset``: (view on ``data``, offset after it)."""
    offset = _align(offset, 4)
    (count,) = struct.unpack_from(order + 'I', data, offset)
    offset += 4
    if count:
        offset = _align(offset, 8)
    values = np.frombuffer(data, dtype=order + 'f8', count=count, offset=offset)
    return values, offset + 8 * count


class Float64ArrayWriter:
    """Serializes commands as std_msgs/Float64MultiArray (empty layout, as the node sends).

    Args:
        size: Number of values per message.
    """

    def __init__(self, size: int) -> None:
        # encapsulation CDR_LE, layout.dim = [], layout.data_offset = 0, len(data), then
        # 4 bytes of padding: the doubles start 8-aligned (offset 16 after the header).
        self.size = size
        self._prefix = b'\x00\x01\x00\x00' + struct.pack('<III', 0, 0, size) + bytes(4)

    def write(self, values: np.ndarray) -> bytes:
        """The serialized message for ``values`` (``size`` float64s)."""
        if values.shape != (self.size,):
            raise ValueError(f'command has shape {values.shape}, expected ({self.size},)')
        return self._prefix + values.astype('<f8', copy=False).tobytes()
