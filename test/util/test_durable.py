# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The atomic write helper: new content in place, or the old content and no temporary file."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
import torch

from robotrl_ros.util import durable
from robotrl_ros.util.durable import atomic_write, atomic_write_bytes, fsync_dir, write_synced


def _entries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_bytes_replace_the_old_content(tmp_path):
    target = tmp_path / 'file.bin'
    target.write_bytes(b'old content')
    assert atomic_write_bytes(target, b'new') == target
    assert target.read_bytes() == b'new'
    assert _entries(tmp_path) == ['file.bin']


def test_creates_missing_directories(tmp_path):
    target = tmp_path / 'a' / 'b' / 'file.bin'
    atomic_write_bytes(target, b'x')
    assert target.read_bytes() == b'x'


def test_callback_writer_takes_torch_save(tmp_path):
    target = tmp_path / 'state.pt'
    atomic_write(target, lambda handle: torch.save({'w': torch.arange(4)}, handle))
    loaded = torch.load(target, weights_only=True)
    assert loaded['w'].tolist() == [0, 1, 2, 3]


def test_writer_failure_mid_write_keeps_old_file_and_no_tmp(tmp_path):
    target = tmp_path / 'file.bin'
    target.write_bytes(b'old content')

    def half_then_fail(handle):
        handle.write(b'partial new content')
        raise RuntimeError('writer broke')

    with pytest.raises(RuntimeError, match='writer broke'):
        atomic_write(target, half_then_fail)
    assert target.read_bytes() == b'old content'
    assert _entries(tmp_path) == ['file.bin']


def test_disk_full_on_fsync_keeps_old_file_and_no_tmp(tmp_path, monkeypatch):
    target = tmp_path / 'file.bin'
    target.write_bytes(b'old content')

    def no_space(fd):
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(durable.os, 'fsync', no_space)
    with pytest.raises(OSError) as info:
        atomic_write_bytes(target, b'new content')
    assert info.value.errno == errno.ENOSPC
    assert target.read_bytes() == b'old content'
    assert _entries(tmp_path) == ['file.bin']


def test_failed_rename_keeps_old_file_and_no_tmp(tmp_path, monkeypatch):
    target = tmp_path / 'file.bin'
    target.write_bytes(b'old content')

    def refuse(src, dst):
        raise OSError(errno.EIO, 'rename failed')

    monkeypatch.setattr(durable.os, 'replace', refuse)
    with pytest.raises(OSError, match='rename failed'):
        atomic_write_bytes(target, b'new content')
    assert target.read_bytes() == b'old content'
    assert _entries(tmp_path) == ['file.bin']


def test_new_file_and_directory_are_fsynced(tmp_path, monkeypatch):
    synced: list[str] = []
    real_fsync = os.fsync

    def record(fd):
        synced.append(os.readlink(f'/proc/self/fd/{fd}'))
        real_fsync(fd)

    monkeypatch.setattr(durable.os, 'fsync', record)
    target = tmp_path / 'file.bin'
    atomic_write_bytes(target, b'content')
    assert len(synced) == 2
    assert synced[0].endswith('.tmp') and Path(synced[0]).parent == tmp_path
    assert synced[1] == str(tmp_path)


def test_write_synced_and_fsync_dir(tmp_path):
    target = tmp_path / 'plain.bin'
    write_synced(target, lambda handle: handle.write(b'abc'))
    fsync_dir(tmp_path)
    assert target.read_bytes() == b'abc'


def test_permissions_follow_the_umask_like_a_plain_write(tmp_path):
    plain = tmp_path / 'plain.bin'
    plain.write_bytes(b'x')
    target = tmp_path / 'atomic.bin'
    atomic_write_bytes(target, b'x')
    assert target.stat().st_mode == plain.stat().st_mode
