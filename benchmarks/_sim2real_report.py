# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The markdown report of ``sim2real.py`` (one row: reach or A1) from its JSON."""

from __future__ import annotations

from _sim2real_setup import EVAL_SEED

POLICY_ROWS = (('nominal_policy', 'trained on nominal sim'),
               ('nominal_continued', 'nominal, continued on nominal sim (same steps as DR)'),
               ('dr_policy', 'trained with domain randomization'))


def _cell(result: dict, kept: float | None = None) -> str:
    text = f'{result["success"]:.2f}'
    if kept is not None:
        text += f' ({kept:.0%})'
    if 'falls' in result:
        text += f', falls {result["falls"]:.0%}'
    return text


def acceptance_lines(nom: dict, dr: dict) -> list[str]:
    """The robustness target, judged (one markdown line).

    DR keeps >= 90 % of its own nominal success on the shift, and that nominal success is
    comparable to the nominal policy's (>= 90 % of it): a policy that is bad everywhere does not
    meet the target.
    """
    issue = ('shifted', 'worst')
    kept_ok = all(dr['kept'][k] >= 0.9 for k in issue)
    own, reference = dr['nominal']['success'], nom['nominal']['success']
    comparable = own >= 0.9 * reference
    dr_kept = ', '.join(f'{k} {dr["kept"][k]:.0%}' for k in issue)
    nom_kept = ', '.join(f'{k} {nom["kept"][k]:.0%}' for k in issue)
    return ['DR keeps >= 90 % of its nominal success on the issue\'s shift (per-episode '
            f'ranges and worst-case robot): **{"yes" if kept_ok else "no"}** ({dr_kept}); the '
            f'nominal policy keeps {nom_kept}. DR\'s own nominal success is comparable to the '
            f'nominal policy\'s (>= 90 % of it): **{"yes" if comparable else "no"}** '
            f'({own:.2f} vs {reference:.2f}). Target met: '
            f'**{"yes" if kept_ok and comparable else "no"}**.']


def _selection_lines(selection: dict | None) -> list[str]:
    """How the DR policy was chosen among its run's snapshots (validation seed), as a table."""
    if not selection:
        return []
    lines = [f'The DR policy is the snapshot at step {selection["chosen_step"]} of its run, '
             f'chosen among {len(selection["scores"])} snapshots on validation episodes (seed '
             f'{selection["validation_seed"]}, {selection["episodes"]} episodes per simulator; '
             f'not the evaluation seed) by: {selection["rule"]}.', '']
    keys = [key for key in ('nominal', 'shifted', 'worst') if key in selection['scores'][0]]
    if 'worst' in selection:
        lines += [f'Worst-case robot of the validation: {selection["worst"]}.', '']
    lines += ['| DR steps | ' + ' | '.join(f'success {key}' for key in keys) + ' |',
              '|---|' + '---|' * len(keys)]
    for score in selection['scores']:
        mark = ' (chosen)' if score['step'] == selection['chosen_step'] else ''
        lines.append(f'| {score["step"]}{mark} | '
                     + ' | '.join(_cell(score[key]) for key in keys) + ' |')
    return lines + ['']


def markdown(r: dict) -> str:
    """The report of one row (reach or A1) from its JSON."""
    nom, dr = r['nominal_policy'], r['dr_policy']
    ft = r.get('finetune')
    robots = r['robots']
    on = f' ({r["env"]["robot"]})' if r.get('env', {}).get('robot') else ''
    lines = [
        f'# Sim-to-real on {r["task"]}{on} (shifted simulators stand in for the real robot)', '']
    if 'dr_run' in r:
        dr_run = r['dr_run']
        lines += [
            f'{r["algo"]}. The nominal policy is the run `{r["init_run"]}` ({r["nominal_steps"]} '
            f'steps on the nominal simulator{r.get("nominal_detail", "")}); the DR policy is '
            f'`{dr_run["run_dir"]}`: **`{dr_run.get("init_policy", "-")}` continued for '
            f'{dr_run["steps"]} steps with domain randomization** ({dr_run["wall_time_s"]} s '
            'wall-clock; a warm start, `robotrl train --init-policy`: a curriculum, not DR from '
            f'scratch). {r["episodes"]} evaluation episodes (seed {EVAL_SEED}); machine '
            f'{r["machine"]}; load average before {r["load_before"]}, after {r["load_after"]} '
            f'(2 shared cores). DR training ranges: {r["dr_train"]}.', '']
    elif 'dr_continued_steps' in r:
        lines += [
            f'{r["algo"]}. The nominal policy is the run `{r["init_run"]}` '
            f'({r["nominal_steps"]} steps on the nominal simulator); the DR policy is that run '
            f'**continued for {r["dr_continued_steps"]} steps with domain randomization** '
            f'({r.get("dr_continued_s", "-")} s wall-clock; a '
            'warm start, `robotrl train --init-policy`), not trained from scratch with DR. '
            f'{r["episodes"]} evaluation episodes (seed {EVAL_SEED}); machine {r["machine"]}; '
            f'load average before {r["load_before"]}, after {r["load_after"]} (2 shared '
            f'cores). DR training ranges: {r["dr_train"]}.', '']
    else:
        lines += [
            f'{r["algo"]}, {r["steps"]} training steps per policy (seed {r["seed"]}), '
            f'{r["episodes"]} evaluation episodes; machine {r["machine"]}; load average before '
            f'{r["load_before"]}, after {r["load_after"]} (2 shared cores). DR training ranges: '
            f'{r["dr_train"]}.', '']
    lines += _selection_lines(r.get('dr_selection'))
    lines += [
        'Real robots: ' + '; '.join(f'**{k}** {v}' for k, v in robots.items()) + '.', '',
        '| policy | success nominal | ' + ' | '.join(f'success {k} (kept)' for k in robots)
        + ' | return nominal | return shifted |',
        '|---|---|' + '---|' * len(robots) + '---|---|']
    for key, name in POLICY_ROWS:
        if key not in r:
            continue
        p = r[key]
        cells = ' | '.join(_cell(p[k], p['kept'][k]) for k in robots)
        lines.append(f'| {name} | {_cell(p["nominal"])} | {cells} '
                     f'| {p["nominal"]["return"]} | {p["shifted"]["return"]} |')
    lines += ['', *acceptance_lines(nom, dr), '']
    if r.get('corners'):
        lines += [f'Worst-case search: the nominal policy on every corner of the shift '
                  f'({r["corner_episodes"]} episodes each; the worst is the lowest success, then '
                  'most falls, then lowest return):', '', '| corner | success | falls | return |',
                  '|---|---|---|---|']
        for c in r['corners']:
            corner = ', '.join(f'{k} {v[0]}' for k, v in c['robot'].items()
                               if isinstance(v, list))
            lines.append(f'| {corner} | {c["success"]:.2f} | {c.get("falls", 0):.0%} '
                         f'| {c["return"]} |')
        lines.append('')
    if r.get('notes'):
        lines += [r['notes'], '']
    if ft is None:
        return '\n'.join(lines) + '\n'
    target = nom['nominal']['success']
    period = ft.get('control_period_s')
    per = f' x {period} s' if period else ''
    lines += [f'## Fine-tuning the nominal policy through the graph on the {r["finetune_on"]} '
              'robot', '']
    if ft.get('trainer_config'):
        lines += [f'trainer_node `config`: the nominal run\'s `config.yaml` (its `env:` reward '
                  f'options and `agent:` settings) with the fine-tune\'s overrides '
                  f'{ft["hparams"]} on top = `{ft["trainer_config"]}`; transitions are scored '
                  f'with {ft["trainer_reward"]}.', '']
    elif ft.get('hparams'):
        lines += [f'Trainer hyperparameter overrides: {ft["hparams"]}; reward: '
                  f'{ft.get("trainer_reward", "task defaults")}.', '']
    final = ft['final_on_shifted']
    acted = ft.get('acted_transitions', ft['transitions'])
    data = (f'{acted} acted transitions{per}' if acted == ft['transitions'] else
            f'{acted} acted transitions{per} ({ft["transitions"]} learned from; the rest acted '
            'by an older policy, dropped)')
    if ft['reached']:
        lines.append(f'Recovered nominal success ({target:.2f}, within 5 %) on the '
                     f'{r["finetune_on"]} robot (from {nom[r["finetune_on"]]["success"]:.2f}): '
                     f'success {ft["reached"]["success"]:.2f} after {data} = '
                     f'**{ft["real_minutes"]} minutes of "real" interaction** '
                     f'({ft["wall_s"]} s wall-clock through sim_bridge + policy_node + '
                     f'trainer_node); the final policy on {r["episodes"]} evaluation '
                     f'episodes: success {final["success"] if final else "-"}.')
    else:
        lines.append(f'Not recovered within the budget: final success on the '
                     f'{r["finetune_on"]} robot {final["success"] if final else "-"} vs nominal '
                     f'{target:.2f} (from {nom[r["finetune_on"]]["success"]:.2f}) after '
                     f'{data} ({ft["real_minutes"]} "real" minutes, {ft["wall_s"]} s '
                     'wall-clock).')
    if 'finetune_load_before' in r:
        lines += ['', f'Fine-tuning run separately: load average before '
                  f'{r["finetune_load_before"]}, after {r.get("finetune_load_after")}.']
    lines += ['', 'Evaluations during fine-tuning (published_s, transitions, success): '
              + ', '.join(f'({p["published_s"]}, {p["transitions"]}, {p["success"]})'
                          for p in ft['curve'])]
    return '\n'.join(lines) + '\n'
