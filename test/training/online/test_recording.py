# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""MCAP recording with ROS 2 message encoding, read back, and offline replay training."""

import errno
import json
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from mcap.reader import make_reader
from rclpy.serialization import deserialize_message
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray, String

from robotrl_ros.agents.registry import make_agent
from robotrl_ros.tasks.registry import make_env, make_task
from robotrl_ros.training.online import recording
from robotrl_ros.training.online.learner import OnlineLearner
from robotrl_ros.training.online.mcap_recovery import recover_mcap
from robotrl_ros.training.online.offline import train_from_recording
from robotrl_ros.training.online.pairing import TransitionPairer
from robotrl_ros.training.online.recording import McapRecorder
from robotrl_ros.training.online.recording_replay import read_events, replay_transitions

TOPICS = {'joint_states': '/joint_states', 'commands': '/forward_position_controller/commands',
          'goal_pose': '/goal_pose', 'cmd_vel': '/cmd_vel', 'resets': '/trainer_node/resets'}


def record_session(path, episodes=3, seed=0):
    """Drive a simulated reach robot with random commands, recording and pairing live."""
    env = make_env('reach')
    live = TransitionPairer(env.task)
    rec = McapRecorder(path, TOPICS)
    rng = np.random.default_rng(seed)
    clock = [1_000_000_000]

    def now():
        clock[0] += 1_000_000
        return clock[0]
    stamp, transitions = 0.0, []
    for episode in range(1, episodes + 1):
        rec.reset_request(now())
        live.begin_reset()
        env.reset(seed=int(rng.integers(1000)))
        stamp += 0.1
        late_goal = episode > 1  # goal_pose delivered after the first state and the reply
        if not late_goal:
            rec.goal(env.goal, stamp, now())
            live.on_goal(env.goal, stamp)
        names, pos, vel, _ = env.joint_state()
        rec.joint_state(stamp, names, pos, vel, now())
        live.on_joint_state(stamp, pos, vel)
        rec.reset(episode, stamp, now(), env.goal)
        live.on_reset(stamp, env.goal)
        if late_goal:
            rec.goal(env.goal, stamp, now())
            live.on_goal(env.goal, stamp)
        while not live.needs_reset:
            command = rng.uniform(-1, 1, 3)
            rec.command(command, now())
            live.on_command(command)
            env.step_command(command)
            stamp += 0.1
            _, pos, vel, _ = env.joint_state()
            rec.joint_state(stamp, names, pos, vel, now())
            tr = live.on_joint_state(stamp, pos, vel)
            if tr is not None:
                transitions.append(tr)
    rec.close()
    return transitions


def test_recording_holds_real_ros2_messages(tmp_path):
    path = tmp_path / 'run.mcap'
    transitions = record_session(path, episodes=1)
    with open(path, 'rb') as handle:
        reader = make_reader(handle)
        summary = reader.get_summary()
        assert reader.get_header().profile == 'ros2'
        schemas = {s.name: s.encoding for s in summary.schemas.values()}
        assert schemas['sensor_msgs/msg/JointState'] == 'ros2msg'
        topics = {c.topic: c.message_encoding for c in summary.channels.values()}
        assert topics['/joint_states'] == 'cdr'
        raw = {c.topic: [] for c in summary.channels.values()}
        for _, channel, message in reader.iter_messages():
            raw[channel.topic].append(message.data)
    # Deserialized by rclpy itself: the bytes are genuine ROS 2 CDR messages.
    js = deserialize_message(raw['/joint_states'][1], JointState)
    assert list(js.name) == ['x', 'y', 'z'] and len(js.position) == 3
    cmd = deserialize_message(raw['/forward_position_controller/commands'][0], Float64MultiArray)
    assert len(cmd.data) == 3
    assert len(raw['/joint_states']) == len(transitions) + 1
    boundary = deserialize_message(raw['/trainer_node/resets'][1], String)
    data = json.loads(boundary.data)
    assert data == {'episode': 1, 'stamp': pytest.approx(0.1), 'goal': pytest.approx(data['goal'])}
    assert len(data['goal']) == 3


def test_replay_pairs_exactly_the_transitions_seen_live(tmp_path):
    path = tmp_path / 'run.mcap'
    live = record_session(path, episodes=3)
    kinds = [e.kind for e in read_events(path)]
    assert kinds.count('reset') == 3 and kinds.count('reset_request') == 3
    replayed = list(replay_transitions(path, TransitionPairer(make_task('reach'))))
    assert len(replayed) == len(live) > 0
    assert {t.episode for t in live} == {1, 2, 3}   # late goals lost no episode
    for a, b in zip(live, replayed, strict=True):
        np.testing.assert_allclose(a.obs, b.obs)
        np.testing.assert_allclose(a.action, b.action)
        assert (a.reward, a.terminated, a.truncated) == (b.reward, b.terminated, b.truncated)


def test_train_from_recording_learns_offline(tmp_path):
    path = tmp_path / 'run.mcap'
    live = record_session(path, episodes=4)
    spec = make_task('reach').spec
    agent = make_agent('sac', spec, {'learning_starts': 100, 'batch_size': 32}, 0)
    learner = OnlineLearner(agent, spec, tmp_path / 'out', algo='sac')
    result = train_from_recording(learner, path, 'reach')
    assert result['transitions'] == len(live)
    assert result['updates'] == len(live) - 100 + 1
    assert learner.stored == len(live)


def test_replay_of_a_missing_or_bad_file_names_it(tmp_path):
    with pytest.raises(ValueError, match='no such file'):
        list(read_events(tmp_path / 'nope.mcap'))
    bad = tmp_path / 'bad.mcap'
    bad.write_bytes(b'not an mcap file at all')
    with pytest.raises(ValueError, match='not a readable MCAP'):
        list(read_events(bad))


def test_robotrl_replay_trains_offline_from_a_recording(tmp_path, capsys):
    from robotrl_ros.cli import main
    from robotrl_ros.policy.artifact import load_artifact

    path = tmp_path / 'run.mcap'
    live = record_session(path, episodes=3)
    hparams = tmp_path / 'sac.yaml'
    hparams.write_text('agent:\n  learning_starts: 100\n  batch_size: 32\n')
    assert main(['replay', '--mcap', str(path), '--task', 'reach', '--out', str(tmp_path / 'off'),
                 '--config', str(hparams)]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result['transitions'] == len(live) and result['updates'] == len(live) - 100 + 1
    assert load_artifact(result['artifact']).spec.name == 'reach'
    summary = json.loads((tmp_path / 'off' / 'summary.json').read_text())
    assert summary['replayed_transitions'] == len(live)


def test_robotrl_replay_rejects_a_missing_recording_or_unknown_task(tmp_path, capsys):
    from robotrl_ros.cli import main

    out = tmp_path / 'off'
    assert main(['replay', '--mcap', str(tmp_path / 'nope.mcap'), '--task', 'reach',
                 '--out', str(out)]) == 1
    assert 'no such file' in capsys.readouterr().err and not out.exists()
    path = tmp_path / 'run.mcap'
    record_session(path, episodes=1)
    assert main(['replay', '--mcap', str(path), '--task', 'nonesuch', '--out', str(out)]) == 1
    assert "unknown task 'nonesuch'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(['replay', '--task', 'reach', '--out', str(out)])
    assert exc.value.code == 2 and '--mcap' in capsys.readouterr().err


def test_replay_counts_a_bad_recorded_reset_goal_and_goes_on(tmp_path):
    path = tmp_path / 'bad_goal.mcap'
    rec = McapRecorder(path, TOPICS)
    rec.reset_request(1)
    rec.goal([0.5, 0.0, 0.0], 0.1, 2)
    rec.joint_state(0.1, ['x', 'y', 'z'], [0.0] * 3, [0.0] * 3, 3)
    rec.reset(1, 0.1, 4, [1.0, 2.0])  # not a 3-D goal
    rec.command([1.0, 0.0, 0.0], 5)
    rec.joint_state(0.2, ['x', 'y', 'z'], [0.01, 0.0, 0.0], [0.1, 0.0, 0.0], 6)
    rec.close()
    pairer = TransitionPairer(make_task('reach'))
    replayed = list(replay_transitions(path, pairer))
    assert pairer.dropped['bad_reset_goal'] == 1
    assert len(replayed) == 1
    np.testing.assert_allclose(replayed[0].obs[6:9], [0.5, 0.0, 0.0])  # the topic's goal


# --- crash safety: periodic flush, recovery after SIGKILL, disk full ----------------------
def _messages(path):
    """Sequence numbers of the messages of a complete MCAP file (the standard reader)."""
    with open(path, 'rb') as handle:
        return [m.sequence for _, _, m in make_reader(handle).iter_messages()]


def _raw(path):
    """(topic, schema, log time, CDR bytes) of every message."""
    with open(path, 'rb') as handle:
        return [(c.topic, s.name, m.log_time, m.data)
                for s, c, m in make_reader(handle).iter_messages()]


def _cut_copy(path, tmp_path):
    """The bytes on disk right now, as a file (what a crash would leave)."""
    cut = tmp_path / 'cut.mcap'
    cut.write_bytes(path.read_bytes())
    return cut


def test_a_chunk_is_flushed_every_half_flush_period(tmp_path):
    now = [0.0]
    path = tmp_path / 'rec.mcap'
    rec = McapRecorder(path, TOPICS, flush_period=1.0, clock=lambda: now[0], background=False)
    rec.command([0.1, 0.2, 0.3], 1)
    now[0] = 0.25
    rec.command([0.1, 0.2, 0.3], 2)
    assert rec.flushed == 0
    assert recover_mcap(_cut_copy(path, tmp_path)).messages == 0
    now[0] = 0.5
    rec.command([0.1, 0.2, 0.3], 3)             # half a period since the start: flushed with it
    assert rec.flushed == 3
    now[0] = 0.6
    rec.command([0.1, 0.2, 0.3], 4)
    assert not rec.flush_if_due()              # pending, but not half a period old yet
    now[0] = 1.0
    assert rec.flush_if_due()                  # no new message needed: the timer path
    assert rec.flushed == 4
    assert not rec.flush_if_due()              # nothing pending
    recovered = recover_mcap(_cut_copy(path, tmp_path))
    assert (recovered.messages, recovered.complete) == (4, False)
    assert _messages(recovered.path) == [0, 1, 2, 3]
    rec.close()
    rec.close()
    assert _messages(path) == [0, 1, 2, 3]


def test_recover_keeps_a_complete_file_whole_and_rejects_bad_input(tmp_path):
    path = tmp_path / 'whole.mcap'
    record_session(path, episodes=1)
    out = recover_mcap(path, tmp_path / 'copy.mcap')
    assert out.complete and out.messages == len(_messages(path))
    assert _raw(out.path) == _raw(path)
    with pytest.raises(ValueError, match='overwrite its input'):
        recover_mcap(path, path)
    (tmp_path / 'junk.mcap').write_bytes(b'not an mcap file at all')
    with pytest.raises(ValueError, match='junk.mcap is not an MCAP file'):
        recover_mcap(tmp_path / 'junk.mcap')
    with pytest.raises(ValueError, match='no such file'):
        recover_mcap(tmp_path / 'missing.mcap')


def test_robotrl_mcap_recover_rewrites_a_cut_recording(tmp_path, capsys):
    from robotrl_ros.cli import main
    now = [0.0]
    path = tmp_path / 'rec.mcap'
    rec = McapRecorder(path, TOPICS, flush_period=1.0, clock=lambda: now[0], background=False)
    for step in range(3):
        now[0] = float(step)
        rec.command([0.1, 0.2, 0.3], step)
    cut = _cut_copy(path, tmp_path)                 # what SIGKILL leaves: no footer, no index
    rec.close()
    assert main(['mcap-recover', str(cut), '--out', str(tmp_path / 'fixed.mcap')]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result == {'out': str(tmp_path / 'fixed.mcap'), 'messages': 3, 'complete': False}
    assert _messages(tmp_path / 'fixed.mcap') == [0, 1, 2]
    (tmp_path / 'junk.mcap').write_bytes(b'junk')
    assert main(['mcap-recover', str(tmp_path / 'junk.mcap')]) == 1
    assert 'junk.mcap is not an MCAP file' in capsys.readouterr().err


def test_flush_period_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match='mcap_flush_period must be > 0'):
        McapRecorder(tmp_path / 'r.mcap', TOPICS, flush_period=0.0)


_WRITER = textwrap.dedent('''
    import sys, time
    from robotrl_ros.training.online.recording import McapRecorder
    topics = dict(joint_states='/js', commands='/cmd', goal_pose='/goal', cmd_vel='/cv',
                  resets='/resets')
    rec = McapRecorder(sys.argv[1], topics, flush_period=float(sys.argv[2]))
    for k in range(int(sys.argv[3])):
        rec.joint_state(0.01 * k, ['a', 'b'], [0.1 * k, 0.2], [0.0, 0.0], 1000 + k)
        print('wrote', k, flush=True)
        time.sleep(0.002)
    print('idle', flush=True)
    time.sleep(600)
''')


@pytest.mark.parametrize('count', [400, 1_000_000])   # idle before the kill; killed mid-stream
def test_sigkill_keeps_every_message_older_than_one_flush_period(tmp_path, count):
    period = 1.0      # the default
    script = tmp_path / 'writer.py'
    script.write_text(_WRITER)
    path = tmp_path / 'rec.mcap'
    proc = subprocess.Popen([sys.executable, str(script), str(path), str(period), str(count)],
                            stdout=subprocess.PIPE, text=True)
    received: list[float] = []   # when the parent saw message k reported (>= its write time)
    try:
        for line in proc.stdout:
            if line.startswith('wrote'):
                received.append(time.monotonic())
                if count > 400 and len(received) == 1500:
                    break
            else:                 # idle: wait until more than a period has passed, then kill
                time.sleep(2 * period)
                break
        killed = time.monotonic()
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    recovered = recover_mcap(path)
    sequences = _messages(recovered.path)
    assert sequences == list(range(len(sequences)))          # a prefix, in order
    old_enough = sum(1 for t in received if t < killed - period)
    assert len(sequences) >= old_enough > 0
    if count == 400:
        assert len(sequences) == 400
    first = next(read_events(recovered.path))
    assert first.kind == 'joint_state' and first.names == ('a', 'b')


def test_disk_full_stops_the_recording_and_close_still_closes(tmp_path, monkeypatch):
    now = [0.0]
    path = tmp_path / 'rec.mcap'
    rec = McapRecorder(path, TOPICS, flush_period=1.0, clock=lambda: now[0], background=False)
    rec.command([0.0], 1)
    now[0] = 1.0
    rec.command([0.0], 2)
    assert rec.flushed == 2

    def no_space(fd):
        raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(recording.os, 'fsync', no_space)
    now[0] = 2.0
    with pytest.raises(OSError, match='No space left'):
        rec.command([0.0], 3)
    with pytest.raises(OSError, match='No space left on device: .*rec.mcap'):
        rec.command([0.0], 4)                    # refused: the recording stopped at the error
    rec.close()                                  # no second raise; the file is closed
    assert rec._file.closed
    monkeypatch.undo()
    assert recover_mcap(path).messages >= 2
