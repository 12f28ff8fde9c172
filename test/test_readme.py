# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The README stays true: its commands, links, launch arguments and console scripts exist."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / 'README.md').read_text()


def test_readme_starts_with_the_two_commands():
    head = README[:3000]
    assert 'make run' in head and 'make test' in head
    makefile = (ROOT / 'Makefile').read_text()
    for target in ('setup:', 'run:', 'test:', 'bench:'):
        assert re.search(rf'^{target}', makefile, re.M), target
    assert 'make test' in (ROOT / '.ci' / 'run').read_text()


def test_every_relative_link_in_the_readme_exists():
    links = re.findall(r'\]\(([^)#:]+)(?:#[^)]*)?\)', README)
    assert links, 'README has no links'
    missing = [link for link in links if not (ROOT / link).exists()]
    assert not missing, f'README links to missing files: {missing}'


def test_every_launch_argument_and_console_script_is_in_the_readme():
    from robotrl_ros.graphs.definitions import GRAPHS
    for graph in GRAPHS.values():
        for arg in graph.arguments:
            assert f'`{arg.name}`' in README, f'launch argument {arg.name} not in README'
    setup = (ROOT / 'setup.py').read_text()
    for script in re.findall(r"'(\w+) = robotrl_ros", setup):
        assert script in README, f'console script {script} not in README'
