# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Rewriting an MCAP recording cut short (SIGKILL, power loss) into a complete, indexed file.

:class:`robotrl_ros.training.online.recording.McapRecorder` closes a chunk and fsyncs at least
every flush period, so a cut file holds every message written before the last flush; readers
want the summary that only a clean close writes. :func:`recover_mcap` (``robotrl mcap-recover``)
keeps every record up to the first incomplete or corrupt one and writes the rest of the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcap.exceptions import McapError
from mcap.records import Channel, Chunk, DataEnd, Header, Message, Schema
from mcap.stream_reader import StreamReader, breakup_chunk
from mcap.writer import Writer as McapWriter

from robotrl_ros.util.durable import atomic_write


@dataclass(frozen=True)
class Recovery:
    """What :func:`recover_mcap` wrote.

    Attributes:
        path: The rewritten, complete file.
        messages: Messages it holds.
        complete: Whether the source was complete (its data section ended) or cut short.
    """

    path: Path
    messages: int
    complete: bool


def recover_mcap(path: str | Path, out: str | Path | None = None) -> Recovery:
    """Rewrite an MCAP file cut short (by SIGKILL, a power loss) into a complete, indexed one.

    Reads the records in file order and keeps every schema, channel and message up to the
    first record that is incomplete or fails its CRC (the chunk being written at the crash);
    the output is written atomically. A complete file is copied record by record too.

    Args:
        path: The cut recording.
        out: Output file (default ``<name>.recovered.mcap`` next to ``path``); not ``path``.

    Raises:
        ValueError: If ``path`` is missing, is not an MCAP file, or ``out`` is ``path``.
    """
    path = Path(path)
    out = path.with_name(f'{path.stem}.recovered.mcap') if out is None else Path(out)
    if not path.is_file():
        raise ValueError(f'mcap-recover: no such file {path}')
    if out.resolve() == path.resolve():
        raise ValueError(f'mcap-recover: output {out} would overwrite its input')
    with open(path, 'rb') as source:
        records, complete = _readable_records(path, source)
    messages = sum(isinstance(r, Message) for r in records)
    atomic_write(out, lambda handle: _write_records(records, handle))
    return Recovery(out, messages, complete)


def _readable_records(path: Path, source: Any) -> tuple[list[Any], bool]:
    """Header, schemas, channels and messages of ``source`` up to the first broken record."""
    if source.read(8) != b'\x89MCAP0\r\n':
        raise ValueError(f'mcap-recover: {path} is not an MCAP file (bad magic)')
    source.seek(0)
    reader = StreamReader(source, emit_chunks=True, record_size_limit=path.stat().st_size)
    kept: list[Any] = []
    complete = False
    try:
        for record in reader.records:
            if isinstance(record, Chunk):
                kept.extend(breakup_chunk(record, validate_crc=True))
            elif isinstance(record, (Header, Schema, Channel, Message)):
                kept.append(record)
            elif isinstance(record, DataEnd):
                complete = True
                break
    except (McapError, ValueError, EOFError, OSError):
        pass  # the record cut by the crash (or corrupt): everything before it is kept
    return kept, complete


def _write_records(records: list[Any], handle: Any) -> None:
    header = next((r for r in records if isinstance(r, Header)), None)
    writer = McapWriter(handle)
    writer.start(profile=header.profile if header else 'ros2',
                 library=header.library if header else 'robotrl_ros mcap-recover')
    schemas: dict[int, int] = {0: 0}
    channels: dict[int, int] = {}
    for record in records:
        if isinstance(record, Schema) and record.id not in schemas:
            schemas[record.id] = writer.register_schema(record.name, record.encoding,
                                                        record.data)
        elif isinstance(record, Channel) and record.id not in channels:
            channels[record.id] = writer.register_channel(
                record.topic, record.message_encoding, schemas.get(record.schema_id, 0),
                dict(record.metadata))
        elif isinstance(record, Message) and record.channel_id in channels:
            writer.add_message(channels[record.channel_id], record.log_time, record.data,
                               record.publish_time, record.sequence)
    writer.finish()
