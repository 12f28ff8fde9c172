# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Read a robot description (URDF, xacro or MJCF) and prepare a URDF for MuJoCo's compiler.

:func:`read_description` finds the description of a :class:`RobotConfig` and returns its XML;
:func:`prepare_urdf` lists the URDF's joints and links and rewrites its mesh references to
absolute paths: a visual mesh MuJoCo cannot read (``.dae``, missing) is dropped with a note, a
collision mesh that is missing or unreadable is an error naming the file.
"""

from __future__ import annotations

import hashlib
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from robotrl_ros.tasks.robots.config import RobotConfig, RobotConfigError, load_robot
from robotrl_ros.tasks.robots.resolve import DescriptionError, resolve_uri

#: Mesh formats MuJoCo's compiler reads.
MESH_SUFFIXES = ('.stl', '.obj', '.msh')
ACTUATED_TYPES = ('revolute', 'continuous', 'prismatic')
#: Compiler options given to MuJoCo for every URDF: keep fixed links as bodies (IMU, feet, end
#: effector), keep visual geoms (renderer), take mesh paths as written (already absolute), and
#: make inertias physical (Mini Cheetah's violate the triangle inequality).
_COMPILER = {'fusestatic': 'false', 'discardvisual': 'false', 'strippath': 'false',
             'balanceinertia': 'true'}


@dataclass(frozen=True)
class UrdfJoint:
    """A URDF joint as written (limits are ``inf`` where the URDF gives none)."""

    name: str
    type: str
    parent: str
    child: str
    lower: float = -math.inf
    upper: float = math.inf
    effort: float = math.inf
    velocity: float = math.inf


@dataclass
class Description:
    """A description ready for MuJoCo.

    Attributes:
        xml: The XML text (a URDF with absolute mesh paths, or MJCF).
        kind: ``urdf`` or ``mjcf``.
        path: The file it was read from.
        joints: URDF joints in file order (empty for MJCF).
        links: URDF link names in file order (empty for MJCF).
        root_link: The URDF's root link ('' for MJCF).
        notes: What was changed on the way (dropped visual meshes).
        sha256: sha256 of the description text as read (UTF-8; a xacro file's expansion)
            before any change: what ``policy.yaml`` records as ``robot.description_sha256``.
    """

    xml: str
    kind: str
    path: Path
    joints: list[UrdfJoint] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    root_link: str = ''
    notes: list[str] = field(default_factory=list)
    sha256: str = ''

    @property
    def actuated_joints(self) -> list[UrdfJoint]:
        """Movable joints in file order (revolute, continuous, prismatic)."""
        return [j for j in self.joints if j.type in ACTUATED_TYPES]


def _builtin_description(config: RobotConfig) -> tuple[str, Path]:
    """Follow ``description: <built-in robot name>`` to that robot's description."""
    try:
        other = load_robot(config.description)
    except RobotConfigError as exc:
        raise DescriptionError(f'{config.where}: description: {exc}') from exc
    return other.description, Path(other.source).parent


def description_path(config: RobotConfig) -> Path:
    """Find the description file of ``config`` (a path, a URI or a built-in robot's name)."""
    ref = config.description
    base_dir = Path(config.source).parent if config.source else Path.cwd()
    if '/' not in ref and '.' not in ref and ':' not in ref:
        ref, base_dir = _builtin_description(config)
    try:
        return resolve_uri(ref, base_dir)
    except DescriptionError as exc:
        raise DescriptionError(f'{config.where}: description: {exc}') from exc


def _expand_xacro(path: Path, args: dict[str, str]) -> str:
    try:
        import xacro
    except ImportError as exc:
        raise DescriptionError(f'{path}: a xacro description needs the xacro package '
                               '(pip install xacro)') from exc
    try:
        return xacro.process_file(str(path), mappings=dict(args)).toxml()
    except Exception as exc:  # xacro raises its own XacroException and plain errors
        raise DescriptionError(f'{path}: xacro failed: {exc}') from exc


def description_text(config: RobotConfig) -> tuple[str, Path]:
    """The description XML of ``config`` as read (a xacro file expanded) and its file.

    This is the text a ``robot_description`` parameter would carry for this robot.

    Raises:
        DescriptionError: File not found or unreadable, or a xacro that does not expand.
    """
    path = description_path(config)
    if path.name.endswith('.xacro'):
        return _expand_xacro(path, config.xacro_args), path
    try:
        return path.read_text(), path
    except (OSError, UnicodeDecodeError) as exc:
        raise DescriptionError(f'{path}: cannot read the robot description: {exc}') from exc


def read_description(config: RobotConfig) -> Description:
    """Read the description of ``config`` (expanding xacro) and prepare it for MuJoCo.

    Raises:
        DescriptionError: File not found, not XML, neither URDF (``<robot>``) nor MJCF
            (``<mujoco>``), or a URDF error of :func:`prepare_urdf`.
    """
    text, path = description_text(config)
    return parse_description(text, path)


def parse_description(text: str, path: Path) -> Description:
    """Classify description XML (from ``path``, or a ``robot_description`` string).

    Raises:
        DescriptionError: Not XML, or neither a URDF nor an MJCF document.
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise DescriptionError(f'{path}: not a URDF, xacro or MJCF file (not XML: {exc})') \
            from exc
    if root.tag == 'mujoco':
        desc = Description(xml=text, kind='mjcf', path=path)
    elif root.tag == 'robot':
        desc = prepare_urdf(root, path)
    else:
        raise DescriptionError(f'{path}: not a URDF, xacro or MJCF file (root element '
                               f'<{root.tag}>, expected <robot> or <mujoco>)')
    desc.sha256 = hashlib.sha256(text.encode()).hexdigest()
    return desc


def _float(element: ET.Element | None, attr: str, default: float, where: str) -> float:
    if element is None or element.get(attr) is None:
        return default
    try:
        return float(element.get(attr, ''))
    except ValueError:
        raise DescriptionError(f'{where}: {attr}={element.get(attr)!r} is not a number') \
            from None


def _joint(element: ET.Element, path: Path) -> UrdfJoint:
    name = element.get('name', '')
    where = f'{path}: joint {name!r}'
    parent, child = element.find('parent'), element.find('child')
    if not name or parent is None or child is None:
        raise DescriptionError(f'{where}: a joint needs a name, <parent link> and <child link>')
    limit = element.find('limit')
    kind = element.get('type', '')
    bounded = kind in ('revolute', 'prismatic')
    return UrdfJoint(
        name=name, type=kind, parent=parent.get('link', ''), child=child.get('link', ''),
        lower=_float(limit, 'lower', -math.inf, where) if bounded else -math.inf,
        upper=_float(limit, 'upper', math.inf, where) if bounded else math.inf,
        effort=_float(limit, 'effort', math.inf, where) or math.inf,
        velocity=_float(limit, 'velocity', math.inf, where) or math.inf)


#: Size attributes of URDF primitive shapes.
_SHAPE_SIZES = {'sphere': ('radius',), 'cylinder': ('radius', 'length'), 'box': ('size',),
                'capsule': ('radius', 'length')}


def _check_primitive(element: ET.Element, link: ET.Element, role: str, path: Path,
                     notes: list[str]) -> None:
    """Drop a visual shape of zero size (MuJoCo rejects it); fail on such a collision."""
    for shape, attrs in _SHAPE_SIZES.items():
        node = element.find(f'geometry/{shape}')
        if node is None:
            continue
        try:
            sizes = [float(v) for a in attrs for v in node.get(a, '1').split()]
        except ValueError:
            sizes = [0.0]
        if min(sizes, default=0.0) > 0:
            return
        where = f'{path}: link {link.get("name")!r}: {role} {shape} {dict(node.attrib)}'
        if role == 'collision':
            raise DescriptionError(f'{where}: sizes must be positive numbers')
        link.remove(element)
        notes.append(f'{where} skipped: zero size')


def _rewrite_meshes(root: ET.Element, path: Path, notes: list[str]) -> None:
    """Make mesh paths absolute; drop unreadable visuals, fail on unreadable collisions."""
    for link in root.iter('link'):
        for role in ('visual', 'collision'):
            for element in list(link.findall(role)):
                mesh = element.find('geometry/mesh')
                if mesh is None:
                    _check_primitive(element, link, role, path, notes)
                    continue
                uri = mesh.get('filename', '')
                where = f'{path}: link {link.get("name")!r}: {role} mesh {uri!r}'
                try:
                    file = resolve_uri(uri, path.parent)
                    problem = '' if file.suffix.lower() in MESH_SUFFIXES else \
                        f'MuJoCo reads {", ".join(MESH_SUFFIXES)} meshes, not {file.suffix}'
                except DescriptionError as exc:
                    file, problem = None, str(exc)
                if not problem:
                    mesh.set('filename', str(file))
                elif role == 'visual':
                    link.remove(element)
                    notes.append(f'{where} skipped: {problem}')
                else:
                    raise DescriptionError(f'{where}: {problem}')


def prepare_urdf(root: ET.Element, path: Path) -> Description:
    """Collect a URDF's joints and links and make it compile in MuJoCo (see module docstring).

    Raises:
        DescriptionError: A malformed joint, or a collision mesh that is missing or unreadable.
    """
    notes: list[str] = []
    links = [link.get('name', '') for link in root.findall('link')]
    joints = [_joint(element, path) for element in root.findall('joint')]
    children = {j.child for j in joints}
    roots = [name for name in links if name not in children]
    if roots == ['world']:      # a fixed base written as a joint to a 'world' link
        roots = [j.child for j in joints if j.parent == 'world']
    if len(roots) != 1:
        raise DescriptionError(f'{path}: a URDF needs exactly one root link, found {roots}')
    _rewrite_meshes(root, path, notes)
    for element in root.findall('mujoco'):
        root.remove(element)
    extension = ET.Element('mujoco')
    ET.SubElement(extension, 'compiler', _COMPILER)
    root.insert(0, extension)
    return Description(xml=ET.tostring(root, encoding='unicode'), kind='urdf', path=path,
                       joints=joints, links=links, root_link=roots[0], notes=notes)
