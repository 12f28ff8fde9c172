# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Write an artifact's network as ONNX (``policy.onnx``) for C++ deploy stacks.

rl_sar, Isaac ROS and ros2_control inference controllers run ONNX. ``robotrl export --policy DIR
--format onnx`` translates the artifact's data network (the NumPy program of ``policy.yaml``'s
``network``, :mod:`robotrl_ros.policy.numpy_program`) op by op into an ONNX graph; no code of
the artifact runs and torch is not needed. The model is exactly
:meth:`robotrl_ros.policy.artifact.PolicyArtifact.act`:

- input ``obs``: float32 ``[batch, obs_dim]``, the observation vector in ``policy.yaml``'s
  ``observation`` layout, built as the policy node builds it (terms scaled by their ``scale``),
  *not* normalized: a normalization the artifact keeps outside the network
  (``normalization.in_network: false``) is the graph's first two ops;
- output ``action``: float32 ``[batch, n_joints]`` in [-1, 1], joints in ``joint_names`` order,
  *before* scaling: the motor command is
  ``clip(action_offset + action_scale * action, command_lower, command_upper)``.

Opset :data:`OPSET` (IR version :data:`IR_VERSION`), float32 throughout (float64 weights are
rounded to float32). The model's ``metadata_props`` repeat what a consumer needs from
``policy.yaml`` (joint names, action scale and offset, command limits, control period, command
interface, observation layout) as JSON strings. Before the file is put in place the graph is
checked with ``onnx.checker`` and run with ONNX's reference evaluator against the artifact's own
NumPy network on random observations; then ``policy.yaml``'s ``files`` records its sha256 (the
artifact still loads and verifies as before; its ``version`` changes with ``policy.yaml``).
Discrete policies and TorchScript-only artifacts have no data network: refused with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from robotrl_ros.policy.artifact import (
    METADATA_FILE,
    PolicyArtifact,
    dump_metadata,
    load_artifact,
    sha256_hex,
)
from robotrl_ros.policy.artifact_files import ArtifactFiles
from robotrl_ros.policy.metadata import ArtifactError
from robotrl_ros.policy.numpy_ops import ALIASES, SELU_ALPHA, SELU_SCALE
from robotrl_ros.policy.numpy_program import NumpyProgram, program_from_data
from robotrl_ros.util.durable import atomic_write_bytes

ONNX_FILE = 'policy.onnx'
#: ONNX operator set of the written model: every op used exists unchanged since opset 13;
#: 17 is read by onnxruntime >= 1.11 and TensorRT >= 8.5.
OPSET = 17
#: IR version that goes with :data:`OPSET` (older runtimes refuse newer IR versions).
IR_VERSION = 8
INPUT_NAME = 'obs'
OUTPUT_NAME = 'action'
#: Largest difference from the artifact's NumPy network accepted when checking the model.
CHECK_ATOL = 1e-5
_INT64_MAX = np.iinfo(np.int64).max
_ELEMENTWISE = {'aten::add': 'Add', 'aten::sub': 'Sub', 'aten::mul': 'Mul', 'aten::div': 'Div',
                'aten::neg': 'Neg', 'aten::relu': 'Relu', 'aten::tanh': 'Tanh',
                'aten::sigmoid': 'Sigmoid', 'aten::clamp_min': 'Max', 'aten::clamp_max': 'Min',
                'aten::exp': 'Exp', 'aten::erf': 'Erf'}


def _onnx() -> Any:
    try:
        import onnx
    except ImportError as exc:
        raise ArtifactError('ONNX export needs the onnx package (pip install onnx; '
                            'requirements-dev.txt pins it)') from exc
    return onnx


class _GraphBuilder:
    """ONNX nodes and initializers, one name per program slot."""

    def __init__(self, onnx: Any, program: NumpyProgram) -> None:
        self.onnx = onnx
        self.program = program
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.names: dict[int, Any] = {}   # slot -> tensor name (or a list of names: a list)
        self._count = 0

    def fresh(self, hint: str) -> str:
        self._count += 1
        return f'{hint}_{self._count}'

    def constant(self, value: Any, hint: str = 'const') -> str:
        """An initializer holding ``value`` as float32 (weights, scalar op arguments)."""
        array = np.asarray(value, dtype=np.float32)
        name = self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def int_constant(self, values: list[int]) -> str:
        name = self.fresh('index')
        self.initializers.append(self.onnx.numpy_helper.from_array(
            np.asarray(values, dtype=np.int64), name))
        return name

    def tensor(self, slot: int) -> str:
        """The tensor name of a slot: a computed value, or a constant made an initializer."""
        if slot not in self.names:
            value = self.program.values[slot]
            if isinstance(value, bool) or not isinstance(value, (int, float, np.ndarray)):
                raise ArtifactError(f'network: slot {slot} ({value!r}) is not a number or '
                                    'array where the ONNX graph needs a tensor')
            self.names[slot] = self.constant(value, f'v{slot}')
        return self.names[slot]

    def node(self, op: str, inputs: list[str], out: str | None = None, **attrs: Any) -> str:
        out = out or self.fresh(op.lower())
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [out], **attrs))
        return out


def _elu(g: _GraphBuilder, x: str, alpha: float, scale: float, input_scale: float) -> str:
    """ELU as torch computes it.

    ``scale * (max(x, 0) + alpha * (exp(min(x, 0) * input_scale) - 1))``: ONNX's ``Elu`` when
    ``scale`` and ``input_scale`` are 1, else spelled out.
    """
    if scale == 1.0 and input_scale == 1.0:
        return g.node('Elu', [x], alpha=float(alpha))
    negative = g.node('Min', [x, g.constant(0.0)])
    negative = g.node('Exp', [g.node('Mul', [negative, g.constant(input_scale)])])
    negative = g.node('Mul', [g.node('Sub', [negative, g.constant(1.0)]), g.constant(alpha)])
    total = g.node('Add', [g.node('Relu', [x]), negative])
    return g.node('Mul', [total, g.constant(scale)])


def _step(g: _GraphBuilder, kind: str, args: list[int]) -> Any:
    """ONNX nodes for one program step; returns the output name (a list for ListConstruct)."""
    values = g.program.values
    const = [values[slot] for slot in args]
    if kind in ALIASES:
        return g.tensor(args[0])
    if kind in _ELEMENTWISE:
        return g.node(_ELEMENTWISE[kind], [g.tensor(slot) for slot in args])
    if kind == 'aten::linear':
        out = g.node('MatMul', [g.tensor(args[0]), g.tensor(args[1])])
        return out if const[2] is None else g.node('Add', [out, g.tensor(args[2])])
    if kind == 'aten::to':
        return g.node('Cast', [g.tensor(args[0])], to=g.onnx.TensorProto.FLOAT)
    if kind == 'aten::elu':
        alpha, scale, input_scale = const[1:] if len(args) == 4 else (1.0, 1.0, 1.0)
        return _elu(g, g.tensor(args[0]), alpha, scale, input_scale)
    if kind == 'aten::selu':
        return g.node('Selu', [g.tensor(args[0])], alpha=SELU_ALPHA, gamma=SELU_SCALE)
    if kind == 'aten::leaky_relu':
        return g.node('LeakyRelu', [g.tensor(args[0])], alpha=float(const[1]))
    if kind == 'aten::silu':
        x = g.tensor(args[0])
        return g.node('Mul', [x, g.node('Sigmoid', [x])])
    if kind == 'aten::clamp':
        out = g.tensor(args[0])
        if const[1] is not None:
            out = g.node('Max', [out, g.tensor(args[1])])
        if const[2] is not None:
            out = g.node('Min', [out, g.tensor(args[2])])
        return out
    if kind == 'aten::slice':
        dim, start, end, stride = const[1:]
        return g.node('Slice', [g.tensor(args[0]), g.int_constant([start or 0]),
                                g.int_constant([_INT64_MAX if end is None else end]),
                                g.int_constant([dim]), g.int_constant([stride or 1])])
    if kind == 'prim::ListConstruct':
        return [g.tensor(slot) for slot in args]
    if kind == 'aten::cat':
        items = g.names.get(args[0])
        if not isinstance(items, list):
            raise ArtifactError('network: aten::cat of something other than a list')
        return g.node('Concat', items, axis=int(const[1]))
    raise ArtifactError(f'network: op {kind} has no ONNX translation')


def program_to_onnx(artifact: PolicyArtifact, program: NumpyProgram) -> Any:
    """The ONNX model (``onnx.ModelProto``) of ``artifact``'s network (module docstring)."""
    onnx = _onnx()
    g = _GraphBuilder(onnx, program)
    spec, metadata = artifact.spec, artifact.metadata
    g.names[0] = INPUT_NAME
    normalization = metadata.get('normalization') or {}
    if normalization and not normalization.get('in_network', True):
        centered = g.node('Sub', [INPUT_NAME, g.constant(normalization['mean'], 'obs_mean')])
        g.names[0] = g.node('Div', [centered, g.constant(normalization['std'], 'obs_std')])
    for step in program.steps:
        g.names[step.out] = _step(g, step.kind, step.args)
    result = g.node('Cast', [g.tensor(program.result)], to=onnx.TensorProto.FLOAT)
    g.node('Clip', [result, g.constant(-1.0, 'action_min'), g.constant(1.0, 'action_max')],
           out=OUTPUT_NAME)
    graph = onnx.helper.make_graph(
        g.nodes, f'robotrl_{spec.name}_{artifact.algorithm}',
        [onnx.helper.make_tensor_value_info(INPUT_NAME, onnx.TensorProto.FLOAT,
                                            ['batch', spec.obs_dim])],
        [onnx.helper.make_tensor_value_info(OUTPUT_NAME, onnx.TensorProto.FLOAT,
                                            ['batch', spec.action_dim])],
        g.initializers)
    model = onnx.helper.make_model(
        graph, opset_imports=[onnx.helper.make_opsetid('', OPSET)], producer_name='robotrl_ros',
        doc_string='obs [batch, obs_dim] (policy.yaml observation layout, not normalized) -> '
                   'action [batch, n_joints] in [-1, 1]; command = clip(action_offset + '
                   'action_scale * action, command_lower, command_upper)')
    model.ir_version = IR_VERSION
    data = spec.to_dict()
    props = {key: data[key] for key in ('joint_names', 'observation', 'action_scale',
                                        'action_offset', 'command_lower', 'command_upper',
                                        'control_period', 'command_interface', 'command_input')}
    props.update(task=spec.name, algorithm=artifact.algorithm)
    if data['kinematic_chain'] is not None:   # what ee_* observation terms are computed from
        props['kinematic_chain'] = data['kinematic_chain']
    onnx.helper.set_model_props(model, {key: json.dumps(value) for key, value in props.items()})
    onnx.checker.check_model(model, full_check=True)
    return model


def _load_program(path: Path, artifact: PolicyArtifact) -> NumpyProgram:
    """The artifact's data network as a program (its weights file is hash-checked again)."""
    from safetensors.numpy import load as load_safetensors

    network = artifact.metadata['network']
    expected = artifact.metadata['files'][network['weights']]['sha256']
    with ArtifactFiles(path) as files:
        blob = files.read(network['weights'])
    if sha256_hex(blob) != expected:
        raise ArtifactError(f'{path / network["weights"]}: changed while exporting')
    return program_from_data(network, load_safetensors(blob))


def _check_equal(model: Any, artifact: PolicyArtifact) -> float:
    """Run the model with ONNX's reference evaluator against ``artifact.act``; max |diff|."""
    from onnx.reference import ReferenceEvaluator

    rng = np.random.default_rng(0)
    obs_dim = artifact.spec.obs_dim
    probes = np.concatenate([scale * rng.standard_normal((8, obs_dim))
                             for scale in (0.01, 1.0, 10.0, 1000.0)]).astype(np.float32)
    (got,) = ReferenceEvaluator(model).run(None, {INPUT_NAME: probes})
    want = artifact.act(probes)
    if got.shape != want.shape:
        raise ArtifactError(f'ONNX model returns shape {got.shape}, expected {want.shape}')
    worst = float(np.max(np.abs(got - want)))
    if not worst <= CHECK_ATOL:
        raise ArtifactError(f'ONNX model differs from the artifact network by {worst:.3g} '
                            f'(> {CHECK_ATOL}): not written')
    return worst


def export_onnx(path: str | Path) -> Path:
    """Write ``policy.onnx`` into artifact directory ``path`` and record it in ``files``.

    Returns:
        The path of the ONNX file.

    Raises:
        ArtifactError: The artifact does not load, has no data network (discrete policies,
            TorchScript-only artifacts), an op has no translation, or the model does not give
            the artifact's actions; the message says which.
    """
    path = Path(path)
    meta_path = path / METADATA_FILE
    try:
        raw = yaml.safe_load(meta_path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ArtifactError(f'{meta_path}: cannot read: {exc}') from exc
    if isinstance(raw, dict) and raw.get('discrete_actions'):
        raise ArtifactError(f'{path}: a discrete policy (argmax over discrete_actions) has no '
                            'data network to translate; ONNX export supports continuous '
                            'policies (PPO, SAC, REINFORCE)')
    if isinstance(raw, dict) and 'network' not in raw:
        raise ArtifactError(f'{path}: the network is TorchScript only (policy.pt), not data; '
                            'ONNX export translates the data network: re-export it first '
                            f'(python -m robotrl_ros.policy.export --reexport {path})')
    artifact = load_artifact(path)
    model = program_to_onnx(artifact, _load_program(path, artifact))
    _check_equal(model, artifact)
    blob = model.SerializeToString()
    onnx_path = atomic_write_bytes(path / ONNX_FILE, blob)
    metadata = dict(artifact.metadata)
    metadata['files'] = {**metadata.get('files', {}), ONNX_FILE: {'sha256': sha256_hex(blob)}}
    atomic_write_bytes(meta_path, dump_metadata(metadata).encode())
    load_artifact(path)   # still loads and verifies
    return onnx_path
