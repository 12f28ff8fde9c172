# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``make run`` (main_job) in-process path: train reach, export, evaluate the artifact, print.

The default graph path is tested in test_graph_training.py.
"""

import json

from robotrl_ros.graphs import main_job


def test_main_job_trains_exports_and_reports_the_artifact_success_rate(tmp_path, capsys):
    out = tmp_path / 'job'
    (out / 'stale').mkdir(parents=True)  # a previous run is replaced, not resumed
    assert main_job.main(['--in-process', '--steps', '300', '--out', str(out)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[0])
    assert result['task'] == 'reach' and result['algo'] == 'sac' and result['steps'] == 300
    assert result['episodes'] == main_job.EVAL_EPISODES
    assert 0.0 <= result['success_rate'] <= 1.0 and result['steps_per_s'] > 0
    assert lines[1].startswith('sac on reach: success rate ')
    assert (out / 'policy' / 'policy.pt').is_file() and not (out / 'stale').exists()
