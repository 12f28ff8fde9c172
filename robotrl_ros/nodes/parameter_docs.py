# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The docs' parameter tables, generated from the nodes' parameter specs.

Each node's table (docs/deploy.md, docs/sim_bridge.md, docs/trainer.md) and the parameter
contract in docs/interfaces.md (names per node, run-time change rules) sit between marker
comments and are rewritten from the specs::

    python -m robotrl_ros.nodes.parameter_docs           # rewrite the generated blocks
    python -m robotrl_ros.nodes.parameter_docs --check   # exit 1 if a block is out of date
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from robotrl_ros.nodes.policy_node_params import POLICY_NODE_PARAMETERS
from robotrl_ros.nodes.sim_bridge_params import SIM_BRIDGE_PARAMETERS
from robotrl_ros.nodes.trainer_node_params import TRAINER_NODE_PARAMETERS
from robotrl_ros.ros.params import ParameterSpec, markdown_table

DOCS_DIR = Path(__file__).resolve().parents[2] / 'docs'

#: node -> (its parameter specs, the document that holds its table)
NODE_PARAMETERS: dict[str, tuple[tuple[ParameterSpec, ...], str]] = {
    'policy_node': (POLICY_NODE_PARAMETERS, 'deploy.md'),
    'sim_bridge': (SIM_BRIDGE_PARAMETERS, 'sim_bridge.md'),
    'trainer_node': (TRAINER_NODE_PARAMETERS, 'trainer.md'),
}
CONTRACT = 'node parameters'


def _markers(block: str) -> tuple[str, str]:
    return (f'<!-- BEGIN generated: {block} (python -m robotrl_ros.nodes.parameter_docs; '
            'edit the spec, not this block) -->', f'<!-- END generated: {block} -->')


def contract() -> str:
    """docs/interfaces.md's parameter contract: each node's names, and the run-time rules."""
    def names(specs: Sequence[ParameterSpec], policy: str) -> str:
        chosen = [f'`{s.name}`' for s in specs if s.change_policy() == policy]
        return ', '.join(chosen) or 'none'

    lines = ['']   # a paragraph of its own after the marker
    for node, (specs, document) in NODE_PARAMETERS.items():
        lines += [f'{node}: ' + ', '.join(f'`{s.name}`' for s in specs)
                  + f' (types, defaults, ranges: docs/{document}).', '']
    lines += ['Run-time changes (`ros2 param set`; one on-set callback per node validates every '
             'change): an invalid value (wrong type, out of range, not a choice) is refused with '
             'a reason naming the parameter; a read-only parameter is refused; a parameter '
             'that is not dynamic is refused ("takes effect only at start; restart the node"); '
             'a valid change to a dynamic parameter takes effect on the next message.']
    for node, (specs, _) in NODE_PARAMETERS.items():
        lines.append(f'- {node}: dynamic {names(specs, "at run time")}; '
                     f'read-only {names(specs, "read-only")}.')
    return '\n'.join(lines) + '\n'


def blocks() -> dict[str, tuple[str, str]]:
    """``{document: (block name, generated text)}`` for every generated block."""
    result = {'interfaces.md': (CONTRACT, contract())}
    for node, (specs, document) in NODE_PARAMETERS.items():
        result[document] = (f'{node} parameters', markdown_table(specs))
    return result


def render(text: str, block: str, content: str) -> str:
    """``text`` with the block named ``block`` replaced by ``content``.

    Raises:
        ValueError: If the document lacks the block's markers.
    """
    begin, end = _markers(block)
    if begin not in text or end not in text:
        raise ValueError(f'missing the markers of the generated block {block!r}: {begin}')
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f'{head}{begin}\n{content}{end}{tail}'


def main(argv: list[str] | None = None) -> int:
    """Rewrite the generated blocks, or with ``--check`` report the outdated ones (exit 1)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--check', action='store_true', help='only check, write nothing')
    parser.add_argument('--docs', type=Path, default=DOCS_DIR, help='the docs directory')
    args = parser.parse_args(argv)
    outdated = []
    for document, (block, content) in blocks().items():
        path = args.docs / document
        text = path.read_text()
        new = render(text, block, content)
        if new != text:
            outdated.append(str(path))
            if not args.check:
                path.write_text(new)
    if outdated:
        print(('out of date: ' if args.check else 'rewrote: ') + ', '.join(outdated))
    return 1 if outdated and args.check else 0


if __name__ == '__main__':
    sys.exit(main())
