# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Durable online-run storage: transition log, checkpoints, resume, atomic artifacts, SIGKILL."""

import dataclasses
import errno
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from robotrl_ros.agents.ppo import PPO
from robotrl_ros.policy.artifact import load_artifact
from robotrl_ros.tasks.registry import make_env, make_task
from robotrl_ros.training.online import recording, store
from robotrl_ros.training.online.learner import OnlineLearner
from robotrl_ros.training.online.mcap_recovery import recover_mcap
from robotrl_ros.training.online.pairing import TransitionPairer
from robotrl_ros.training.online.recording_replay import read_events
from robotrl_ros.training.online.session import OnlineSession, SessionConfig
from robotrl_ros.training.online.store import (
    CHECKPOINT_FILE,
    LOG_FILE,
    PREVIOUS_CHECKPOINT_FILE,
    StorageError,
    TransitionLog,
    load_checkpoint,
    row_width,
)
from robotrl_ros.util import durable

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent   # the worker imports this module's helpers
SPEC = make_task('reach').spec


def stream(n, seed=0):
    """``n`` transitions observed from a simulated reach robot with random commands."""
    env = make_env('reach')
    pairer = TransitionPairer(env.task)
    rng = np.random.default_rng(seed)
    stamp, out = 0.0, []
    while len(out) < n:
        env.reset(seed=int(rng.integers(1 << 30)))
        pairer.on_goal(env.goal)
        stamp += 0.1
        pairer.begin_reset()
        pairer.on_reset(stamp)
        _, pos, vel, _ = env.joint_state()
        pairer.on_joint_state(stamp, pos, vel)
        while not pairer.needs_reset and len(out) < n:
            action = rng.uniform(-1, 1, 3)
            pairer.on_command(action)
            env.step(action)
            stamp += 0.1
            _, pos, vel, _ = env.joint_state()
            tr = pairer.on_joint_state(stamp, pos, vel)
            out.append(tr)
    return out


def ppo(n_steps=64):
    return PPO(SPEC.obs_dim, SPEC.action_dim, config={'n_steps': n_steps}, seed=0)


def test_log_round_trip_is_exact(tmp_path):
    data = stream(30)
    log = TransitionLog(tmp_path, SPEC)
    for tr in data:
        log.append(tr)
    assert log.stored == 0 and log.sync() == 30
    log.close()
    again = TransitionLog(tmp_path, SPEC).read()
    assert len(again) == 30
    for a, b in zip(data, again, strict=True):
        np.testing.assert_array_equal(a.obs, b.obs)
        np.testing.assert_array_equal(a.next_obs, b.next_obs)
        np.testing.assert_allclose(a.action, b.action)
        assert (a.reward, a.terminated, a.truncated, a.stamp, a.episode) == \
            (b.reward, b.terminated, b.truncated, b.stamp, b.episode)


def test_torn_tail_is_cut_on_open(tmp_path):
    log = TransitionLog(tmp_path, SPEC)
    for tr in stream(5):
        log.append(tr)
    log.close()
    with open(tmp_path / LOG_FILE, 'ab') as handle:
        handle.write(b'\x01' * (8 * row_width(SPEC) + 13))   # one garbage row + partial row
    log = TransitionLog(tmp_path, SPEC)
    assert log.stored == 5
    assert (tmp_path / LOG_FILE).stat().st_size == 5 * 8 * row_width(SPEC)


def test_corrupt_row_in_the_middle_raises_naming_the_row(tmp_path):
    log = TransitionLog(tmp_path, SPEC)
    for tr in stream(5):
        log.append(tr)
    log.close()
    with open(tmp_path / LOG_FILE, 'r+b') as handle:
        handle.seek(8 * row_width(SPEC) + 8)
        handle.write(np.array([123.0]).tobytes())
    with pytest.raises(ValueError, match='row 1 is corrupt'):
        TransitionLog(tmp_path, SPEC)


def test_corrupt_checkpoint_raises(tmp_path):
    (tmp_path / CHECKPOINT_FILE).write_bytes(b'not a checkpoint')
    with pytest.raises(ValueError, match='corrupt'):
        load_checkpoint(tmp_path)


def test_resume_restores_checkpoint_and_refeeds_later_transitions(tmp_path):
    data = stream(100)
    learner = OnlineLearner(ppo(), SPEC, tmp_path, algo='ppo')
    for tr in data[:40]:
        learner.add(tr)
    learner.checkpoint()
    for tr in data[40:]:
        learner.add(tr)
    learner.sync()
    learner.close()
    agent = ppo()
    resumed = OnlineLearner(agent, SPEC, tmp_path, algo='ppo')
    assert resumed.resume() == 60
    assert resumed.counters['transitions'] == 100
    assert resumed.counters['episodes'] == sum(tr.done for tr in data)
    # n_steps=64: one update after the first 64, the rollout now holds the last 36
    assert resumed.counters['updates'] == 1 and not agent.ready()
    assert agent.buffer.step == 36
    stored = agent.buffer.data['rewards'][:36, 0]        # PPO keeps scaled rewards
    expected = np.array([t.reward for t in data[64:]])
    np.testing.assert_allclose(stored / stored[0], expected / expected[0], rtol=1e-5)


def test_resume_refuses_another_task_or_algorithm(tmp_path):
    learner = OnlineLearner(ppo(), SPEC, tmp_path, algo='ppo')
    learner.checkpoint()
    with pytest.raises(ValueError, match="algo 'ppo'"):
        OnlineLearner(ppo(), SPEC, tmp_path, algo='reinforce').resume()


def test_on_policy_learner_updates_once_the_rollout_is_full(tmp_path):
    learner = OnlineLearner(ppo(n_steps=32), SPEC, tmp_path, algo='ppo')
    for tr in stream(31):
        learner.add(tr)
    assert learner.train(10) == 0
    learner.add(stream(1, seed=1)[0])
    assert learner.train(10) == 1
    status = learner.status()
    assert status['updates'] == 1 and status['transitions'] == 32
    assert status['learning_rate'] == pytest.approx(3e-4, rel=10)


def test_export_is_atomic_and_a_failed_export_leaves_the_old_artifact(tmp_path, monkeypatch):
    learner = OnlineLearner(ppo(), SPEC, tmp_path / 'run', algo='ppo')
    out = learner.export(tmp_path / 'policy', provenance={'note': 'first'})
    first = (out / 'policy.pt').read_bytes()
    assert load_artifact(out).metadata['provenance']['note'] == 'first'

    def broken_save(*args, **kwargs):
        raise OSError('disk full')
    monkeypatch.setattr(torch.jit, 'save', broken_save)
    with pytest.raises(OSError, match='disk full'):
        learner.export(tmp_path / 'policy', provenance={'note': 'second'})
    assert (out / 'policy.pt').read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ['policy', 'run']   # no leftovers


_WORKER = textwrap.dedent('''
    import sys, torch
    torch.set_num_threads(1)
    sys.path.insert(0, sys.argv[2])
    from test_store import SPEC, ppo, stream
    from robotrl_ros.training.online.learner import OnlineLearner
    learner = OnlineLearner(ppo(n_steps=4096), SPEC, sys.argv[1], algo='ppo')
    print('resumed', learner.resume(), learner.counters['transitions'], flush=True)
    if sys.argv[3] == 'run':
        for i, tr in enumerate(stream(2000)[learner.counters['transitions']:]):
            learner.add(tr)
            if i % 7 == 6:
                print('stored', learner.sync(), flush=True)
            if i % 50 == 49:
                learner.checkpoint()
''')


def test_sigkill_at_any_moment_loses_no_transition_reported_as_stored(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    script = tmp_path / 'worker.py'
    script.write_text(_WORKER)
    run_dir = tmp_path / 'run'
    reported = 0
    for target in (230, 480):   # killed twice, mid-stream, resuming in between
        proc = subprocess.Popen([sys.executable, str(script), str(run_dir),
                                 str(HERE), 'run'],
                                stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        try:
            for line in proc.stdout:
                if line.startswith('stored'):
                    reported = int(line.split()[1])
                    if reported >= target:
                        proc.send_signal(signal.SIGKILL)
                        break
        finally:
            proc.kill()
            proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        check = subprocess.run([sys.executable, str(script), str(run_dir), str(HERE),
                                'check'], capture_output=True, text=True, env=env, cwd=ROOT,
                               timeout=120)
        _, refed, total = check.stdout.split()
        assert int(total) >= reported, check.stderr
        assert 0 <= int(refed) <= int(total)
    assert load_checkpoint(run_dir)['counters']['transitions'] >= 400
    logged = TransitionLog(run_dir, SPEC).read()
    expected = stream(len(logged))
    np.testing.assert_array_equal(np.stack([t.obs for t in logged]),
                                  np.stack([t.obs for t in expected]))


def test_init_policy_loads_agent_state_from_a_previous_run(tmp_path):
    from robotrl_ros.training.online.session import init_agent_state
    first = OnlineLearner(ppo(), SPEC, tmp_path / 'sim', algo='ppo')
    with torch.no_grad():
        for param in first.agent.policy.parameters():
            param.fill_(0.25)
    first.checkpoint()
    fresh = ppo()
    used = init_agent_state(fresh, tmp_path / 'sim')
    assert used.name == CHECKPOINT_FILE
    assert all(torch.all(p == 0.25) for p in fresh.policy.parameters())
    with pytest.raises(ValueError, match='no checkpoint'):
        init_agent_state(ppo(), tmp_path / 'missing')


def test_init_policy_from_a_multi_env_ppo_run_learns_from_one_robot(tmp_path):
    # An in-process run of 4 envs stopped mid-rollout; the trainer node steps one robot.
    from robotrl_ros.training.config import TrainConfig
    from robotrl_ros.training.experiment import train_run
    from robotrl_ros.training.online.session import init_agent_state
    config = TrainConfig(n_envs=4, log_every=1000, agent={'n_steps': 8})
    run = train_run('reach', 'ppo', 40, 0, tmp_path / 'run', config=config, tensorboard=False)
    assert run.state.step % 32 != 0                       # a partial rollout was saved
    learner = OnlineLearner(ppo(n_steps=16), SPEC, tmp_path / 'online', algo='ppo')
    init_agent_state(learner.agent, tmp_path / 'run')
    assert all(torch.equal(a, b) for a, b in zip(learner.agent.policy.parameters(),
                                                 run.agent.policy.parameters(), strict=True))
    for tr in stream(40):
        learner.add(tr)
    assert learner.counters['updates'] >= 2


def test_recent_return_restarts_with_each_episode_even_without_a_final_step(tmp_path):
    learner = OnlineLearner(ppo(), SPEC, tmp_path, algo='ppo')
    data = stream(400)
    first_end = next(i for i, t in enumerate(data) if t.done)
    for tr in data[:5] + data[first_end + 1:]:     # episode 1 cut short: no done transition
        learner.add(tr)
    second = [t for t in data[first_end + 1:] if t.episode == data[first_end + 1].episode]
    assert second[-1].done
    assert learner.recent[0][0] == pytest.approx(sum(t.reward for t in second))


# --- two checkpoint generations --------------------------------------------------------------
def _two_generations(run_dir, data):
    """Checkpoints after 40 and after 100 transitions; returns the learner (closed)."""
    learner = OnlineLearner(ppo(), SPEC, run_dir, algo='ppo')
    for tr in data[:40]:
        learner.add(tr)
    learner.checkpoint()
    for tr in data[40:]:
        learner.add(tr)
    learner.checkpoint()
    learner.close()
    return learner


def test_a_corrupt_newest_checkpoint_falls_back_to_the_previous(tmp_path, caplog):
    data = stream(100)
    _two_generations(tmp_path, data)
    assert load_checkpoint(tmp_path)['counters']['transitions'] == 100
    newest = tmp_path / CHECKPOINT_FILE
    newest.write_bytes(newest.read_bytes()[:200])            # torn by a bad disk
    assert load_checkpoint(tmp_path)['counters']['transitions'] == 40
    assert 'resuming from the previous checkpoint' in caplog.text
    resumed = OnlineLearner(ppo(), SPEC, tmp_path, algo='ppo')
    assert resumed.resume() == 60                            # the log fills the gap
    assert resumed.counters['transitions'] == 100


def test_a_crash_between_rotation_and_write_resumes_from_the_previous(tmp_path):
    _two_generations(tmp_path, stream(100))
    (tmp_path / CHECKPOINT_FILE).unlink()
    assert load_checkpoint(tmp_path)['counters']['transitions'] == 40


def test_no_readable_generation_names_both_files(tmp_path):
    _two_generations(tmp_path, stream(100))
    for name in (CHECKPOINT_FILE, PREVIOUS_CHECKPOINT_FILE):
        (tmp_path / name).write_bytes(b'garbage')
    with pytest.raises(ValueError, match=f'{CHECKPOINT_FILE} is corrupt.*'
                                         f'{PREVIOUS_CHECKPOINT_FILE} is corrupt'):
        load_checkpoint(tmp_path)


def test_a_failed_checkpoint_write_keeps_the_last_good_one_loadable(tmp_path, monkeypatch):
    data = stream(100)
    learner = OnlineLearner(ppo(), SPEC, tmp_path, algo='ppo')
    for tr in data[:40]:
        learner.add(tr)
    learner.checkpoint()
    for tr in data[40:]:
        learner.add(tr)
    learner.sync()
    monkeypatch.setattr(durable.os, 'fsync', _no_space)
    with pytest.raises(OSError, match='No space left'):
        learner.checkpoint()
    monkeypatch.undo()
    assert load_checkpoint(tmp_path)['counters']['transitions'] == 40
    assert not list(tmp_path.glob('.*.tmp'))


# --- storage failures stop the session cleanly -----------------------------------------------
def _no_space(*args):
    raise OSError(errno.ENOSPC, 'No space left on device')


def _session(run_dir):
    cfg = SessionConfig(task='reach', algo='ppo', output_dir=str(run_dir), record_mcap=True,
                        mcap_flush_period=0.05, use_resets=False)
    return OnlineSession(cfg, agent=ppo())


def _feed(session, transitions):
    for tr in transitions:
        session.command(tr.action, 1)
        session.inbox.append(tr)
    while session.inbox:
        session.learn(sync_period=0.0)


def test_disk_full_stops_the_session_with_a_message_and_closes_log_and_recording(
        tmp_path, monkeypatch):
    session = _session(tmp_path)
    data = stream(60)
    _feed(session, data[:30])
    recorder = session.recorder
    monkeypatch.setattr(store.os, 'fsync', _no_space)      # every fsync fails from now on
    # The log's sync or the recording's flush hits it first: either stops the session.
    with pytest.raises(StorageError, match='(transition log|recording to .*) failed: No space '
                                           r'left on device \(errno 28\)') as info:
        _feed(session, data[30:])
    stored = int(re.search(r'(\d+) transitions are stored in', str(info.value)).group(1))
    assert str(tmp_path) in str(info.value) and 'restart with the same output_dir' in str(
        info.value)
    with pytest.raises(StorageError, match='No space left'):   # nothing more is attempted
        session.learn(sync_period=0.0)
    with pytest.raises(StorageError):
        session.finish()
    session.close()                                          # no second raise
    assert session.learner.log._file.closed and recorder.closed and recorder._file.closed
    assert session.recorder is None
    monkeypatch.undo()
    assert TransitionLog(tmp_path, SPEC).stored >= stored >= 30   # reported ones are kept
    assert recover_mcap(recorder.path).messages >= 30


def test_a_failed_recording_write_stops_the_session_not_the_callback(tmp_path, monkeypatch):
    session = _session(tmp_path)
    data = stream(20)
    _feed(session, data[:10])
    recorder = session.recorder
    monkeypatch.setattr(recording.os, 'fsync', _no_space)
    deadline = time.monotonic() + 60                         # catches a hang only
    while session.failure is None and time.monotonic() < deadline:
        session.command(data[10].action, 2)                  # a callback: never raises
        time.sleep(0.01)                                     # the flush thread's fsync fails
    assert session.recorder is None and recorder._file.closed
    assert session.failure.startswith(f'recording to {recorder.path} failed: No space left')
    monkeypatch.undo()
    with pytest.raises(StorageError, match='recording to'):
        session.learn()
    session.close()
    assert recover_mcap(recorder.path).messages >= 1


def test_close_reports_a_failure_it_hits_itself(tmp_path, monkeypatch):
    session = _session(tmp_path)
    _feed(session, stream(5))
    session.inbox.extend(stream(3, seed=1))
    monkeypatch.setattr(store.os, 'fsync', _no_space)
    with pytest.raises(StorageError, match='closing the transition log failed'):
        session.close()
    assert session.learner.log._file.closed and session.recorder is None


_SESSION_WORKER = textwrap.dedent('''
    import sys, time
    import numpy as np, torch
    torch.set_num_threads(1)
    from robotrl_ros.agents.ppo import PPO
    from robotrl_ros.tasks.registry import make_env
    from robotrl_ros.training.online.session import OnlineSession, SessionConfig
    env = make_env('reach')
    spec = env.task.spec
    cfg = SessionConfig(task='reach', algo='ppo', output_dir=sys.argv[1], record_mcap=True,
                        mcap_flush_period=0.2)
    session = OnlineSession(cfg, agent=PPO(spec.obs_dim, spec.action_dim,
                                           config={'n_steps': 64}, seed=0))
    print('resumed', session.learner.counters['transitions'], flush=True)
    rng = np.random.default_rng(int(sys.argv[2]))
    stamp, episode, steps = 0.0, 0, 0
    while True:
        env.reset(seed=int(rng.integers(1 << 30)))
        episode += 1
        stamp += 0.1
        session.goal(env.goal, stamp, time.time_ns())
        session.begin_reset(time.time_ns())
        session.end_reset(episode, stamp, time.time_ns(), env.goal)
        names, pos, vel, _ = env.joint_state()
        session.joint_state(stamp, names, pos, vel, time.time_ns())
        while not session.needs_reset():
            action = rng.uniform(-1, 1, 3)
            session.command(action, time.time_ns())
            env.step(action)
            stamp += 0.1
            _, pos, vel, _ = env.joint_state()
            session.joint_state(stamp, names, pos, vel, time.time_ns())
            while session.learn(sync_period=0.0):
                pass
            steps += 1
            time.sleep(0.005)          # a robot's pace: a run lasts long enough to flush
            if steps % 40 == 0:
                session.checkpoint()
            print('stored', session.learner.stored, session.recorder.count, flush=True)
''')


def test_sigkill_of_a_recording_session_loses_no_stored_transition_and_no_recording(tmp_path):
    """SIGKILL at random moments: restarts resume all that was stored; recordings recover.

    ``ROBOTRL_SIGKILL_COUNT=20`` runs the acceptance's 20 moments instead of 3.
    """
    kills = int(os.environ.get('ROBOTRL_SIGKILL_COUNT', '3'))
    script = tmp_path / 'session_worker.py'
    script.write_text(_SESSION_WORKER)
    run_dir = tmp_path / 'run'
    rng = np.random.default_rng(0)
    env = dict(os.environ, OMP_NUM_THREADS='1')
    period = 0.2                                                 # the worker's flush period
    reported = 0
    old_enough = []           # per run: messages recorded more than a flush period before kill
    for kill in range(kills):
        recorded: list[tuple[float, int]] = []                   # (seen at, messages so far)
        proc = subprocess.Popen([sys.executable, str(script), str(run_dir), str(kill)],
                                stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        target = reported + int(rng.integers(300, 600))     # >= 1.5 s at the worker's pace
        try:
            for line in proc.stdout:
                if line.startswith('resumed'):
                    assert int(line.split()[1]) >= reported      # nothing stored was lost
                    continue
                stored, messages = (int(v) for v in line.split()[1:])
                recorded.append((time.monotonic(), messages))
                if stored >= target:
                    reported = stored
                    proc.send_signal(signal.SIGKILL)
                    break
            killed = time.monotonic()
        finally:
            proc.kill()
            proc.wait(timeout=60)
        assert proc.returncode == -signal.SIGKILL
        # Flushes come from a thread: allow it a second of scheduling delay on a busy machine
        # (the exact one-period bound is test_recording's).
        old_enough.append(max([n for t, n in recorded if t < killed - period - 1.0], default=0))
        assert old_enough[-1] > 0
    recordings = sorted(run_dir.glob('recording_*.mcap'))
    assert len(recordings) == kills                              # none overwrote another
    for path, expected in zip(recordings, old_enough, strict=True):
        recovered = recover_mcap(path, tmp_path / f'{path.stem}.recovered.mcap')
        assert not recovered.complete and recovered.messages >= expected
        if recovered.messages:
            kinds = {event.kind for event in read_events(recovered.path)}
            assert 'joint_state' in kinds and 'goal' in kinds
    resumed = OnlineLearner(ppo(), SPEC, run_dir, algo='ppo')
    resumed.resume()
    assert resumed.counters['transitions'] >= reported


def test_on_policy_learner_scores_the_sample_behind_a_clamped_action(tmp_path):
    # On the graph the policy node publishes its sample before the clamp: PPO stores and
    # scores that (as in process), not the executed action at the bound.
    agent = ppo(n_steps=4)
    learner = OnlineLearner(agent, SPEC, tmp_path, algo='ppo')
    transitions = stream(3)
    sampled = dataclasses.replace(transitions[0], sample=np.array([1.5, -0.3, 2.0], np.float32),
                                  action=np.array([1.0, -0.3, 1.0], np.float32))
    for tr in [sampled, *transitions[1:]]:
        learner.add(tr)
    stored = agent.buffer.data['actions'][:3, 0]
    np.testing.assert_allclose(stored[0], [1.5, -0.3, 2.0])
    np.testing.assert_allclose(stored[1:], np.stack([t.action for t in transitions[1:]]))
    assert learner.log.read()[0].action.tolist() == [1.0, pytest.approx(-0.3), 1.0]  # executed
