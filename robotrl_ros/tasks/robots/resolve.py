# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Resolve the file URIs of robot descriptions the way ROS does, without needing ROS.

``package://pkg/path`` is looked up, in order, in the ament index (when
``ament_index_python`` is importable and knows ``pkg``), in the ``ROS_PACKAGE_PATH`` entries,
in the description's own directory tree (an ancestor directory named ``pkg``, or an ancestor
holding ``pkg/`` or ``src/pkg/``, as in a colcon workspace), and finally as the pseudo-package
``pybullet_data`` (the robot models shipped by the ``pybullet`` wheel). ``file://`` URIs and
plain paths (relative to the description's directory) are taken as they are.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_SCHEME = 'package://'
FILE_SCHEME = 'file://'
#: Pseudo-package naming the data directory of the ``pybullet`` wheel (built-in robots).
PYBULLET_DATA = 'pybullet_data'
#: Directory levels searched below each ``ROS_PACKAGE_PATH`` entry for a package directory.
_ROS_PATH_DEPTH = 3


class DescriptionError(ValueError):
    """A robot description (or a file it refers to) cannot be found, read or imported."""


def _ament_share(package: str) -> Path | None:
    try:
        from ament_index_python.packages import get_package_share_directory
    except ImportError:
        return None
    try:
        return Path(get_package_share_directory(package))
    except (LookupError, ValueError, OSError):
        return None


def _ros_package_path(package: str) -> list[Path]:
    found = []
    for entry in os.environ.get('ROS_PACKAGE_PATH', '').split(os.pathsep):
        if not entry:
            continue
        root = Path(entry)
        if root.name == package:
            found.append(root)
            continue
        frontier = [root]
        for _ in range(_ROS_PATH_DEPTH):
            children = []
            for folder in frontier:
                if (folder / package).is_dir():
                    found.append(folder / package)
                try:
                    children += [p for p in folder.iterdir() if p.is_dir()]
                except OSError:
                    continue
            frontier = children
    return found


def _own_tree(package: str, base_dir: Path) -> list[Path]:
    found = []
    for folder in (base_dir, *base_dir.parents):
        if folder.name == package:
            found.append(folder)
        for candidate in (folder / package, folder / 'src' / package):
            if candidate.is_dir():
                found.append(candidate)
    return found


def _pybullet_data() -> Path | None:
    try:
        import pybullet_data
    except ImportError:
        return None
    return Path(pybullet_data.getDataPath())


def package_roots(package: str, base_dir: Path) -> list[Path]:
    """Candidate directories of ``package``, in lookup order (see the module docstring)."""
    roots: list[Path] = []
    share = _ament_share(package)
    if share is not None:
        roots.append(share)
    roots += _ros_package_path(package)
    roots += _own_tree(package, base_dir)
    if package == PYBULLET_DATA:
        data = _pybullet_data()
        if data is not None:
            roots.append(data)
    return list(dict.fromkeys(roots))


def resolve_uri(uri: str, base_dir: Path) -> Path:
    """Resolve a ``package://``, ``file://`` or plain (relative or absolute) file reference.

    Args:
        uri: The reference as written in the description.
        base_dir: Directory of the description (for relative paths and its own tree).

    Returns:
        The existing file's absolute path.

    Raises:
        DescriptionError: Nothing exists there; the message lists the places searched.
    """
    if uri.startswith(PACKAGE_SCHEME):
        package, _, rest = uri[len(PACKAGE_SCHEME):].partition('/')
        if not package or not rest:
            raise DescriptionError(f'{uri}: expected package://<package>/<path>')
        roots = package_roots(package, base_dir)
        for root in roots:
            if (root / rest).is_file():
                return (root / rest).resolve()
        searched = ', '.join(str(r) for r in roots) or 'no directory of that package'
        raise DescriptionError(
            f'{uri}: file not found (package {package!r} searched in the ament index, '
            f'ROS_PACKAGE_PATH and the tree of {base_dir}; candidates: {searched})')
    path = Path(uri[len(FILE_SCHEME):] if uri.startswith(FILE_SCHEME) else uri).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    if not path.is_file():
        raise DescriptionError(f'{uri}: file not found ({path})')
    return path.resolve()
