# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The docs' parameter tables and lists are the nodes' parameter specs."""

import re
from pathlib import Path

import pytest

from robotrl_ros.nodes.parameter_docs import NODE_PARAMETERS, blocks, main, render

ROOT = Path(__file__).resolve().parents[2]


def test_generated_blocks_are_up_to_date():
    assert main(['--check', '--docs', str(ROOT / 'docs')]) == 0, \
        'run: python -m robotrl_ros.nodes.parameter_docs'


def test_check_reports_an_outdated_table(tmp_path, capsys):
    for document in blocks():
        (tmp_path / document).write_text((ROOT / 'docs' / document).read_text())
    stale = (tmp_path / 'deploy.md').read_text().replace('| `armed` | bool | `false`',
                                                           '| `armed` | bool | `true`')
    (tmp_path / 'deploy.md').write_text(stale)
    assert main(['--check', '--docs', str(tmp_path)]) == 1
    assert 'deploy.md' in capsys.readouterr().out
    assert main(['--docs', str(tmp_path)]) == 0            # rewrites it
    assert main(['--check', '--docs', str(tmp_path)]) == 0


def test_a_document_without_markers_is_an_error():
    with pytest.raises(ValueError, match='missing the markers'):
        render('no markers here', 'policy_node parameters', '')


def documented_tables() -> dict[str, dict[str, str]]:
    """``{node: {parameter: default cell}}`` from the generated tables."""
    tables = {}
    for node, (_, document) in NODE_PARAMETERS.items():
        text = (ROOT / 'docs' / document).read_text()
        rows = re.findall(r'^\| `(\w+)` \| \w+ \| (`[^`]*`) \|', text, re.MULTILINE)
        tables[node] = dict(rows)
    return tables


@pytest.mark.parametrize('node', sorted(NODE_PARAMETERS))
def test_tables_list_every_parameter_with_its_default(node):
    specs, _ = NODE_PARAMETERS[node]
    table = documented_tables()[node]
    assert list(table) == [spec.name for spec in specs]
    for spec in specs:
        default = spec.default
        shown = str(default).lower() if isinstance(default, bool) else \
            (default or "''") if isinstance(default, str) else str(default)
        assert table[spec.name] == f'`{shown}`', spec.name


@pytest.mark.parametrize('node', sorted(NODE_PARAMETERS))
def test_interfaces_lists_exactly_the_spec_names(node):
    specs, _ = NODE_PARAMETERS[node]
    text = (ROOT / 'docs' / 'interfaces.md').read_text()
    paragraph = next(p for p in text.split('\n\n') if p.startswith(f'{node}: '))
    listed = re.findall(r'`(\w+)`', paragraph.split('(', 1)[0])
    assert listed == [spec.name for spec in specs]
