"""AtomicCheckpointHook: a SIGKILL while a checkpoint or the last_checkpoint
pointer is being written never leaves something --resume would pick and fail
on: resume continues from the last complete checkpoint. Completeness comes
from the write itself (temp file, fsync, rename), no sidecar."""
import os
import os.path as osp
import signal
import sys
import time
import traceback

import pytest
import torch
from mmengine.runner import Runner

import mmav_mask  # noqa: F401
from mmav_mask.utils import find_latest_checkpoint, load_checkpoint_file

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'engine'))
from _atomic_child import run_and_hang  # noqa: E402
from _toy import LossRecorder, toy_runner_cfg  # noqa: E402

pytestmark = pytest.mark.slow  # forks training processes and SIGKILLs them


def _kill_mid_write(tmp_path, target, upstream=False):
    """Forks a child (a separate process sharing the imports) that trains and
    hangs half-way through writing ``target``; SIGKILLs it there."""
    work = str(tmp_path / 'work')
    ready = str(tmp_path / 'ready')
    errors = str(tmp_path / 'child_error')
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        code = 3
        try:
            run_and_hang(work, target, ready, upstream)
        except BaseException:
            with open(errors, 'w') as f:
                f.write(traceback.format_exc())
        finally:
            os._exit(code)
    deadline = time.time() + 90
    while not osp.exists(ready):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            msg = open(errors).read() if osp.exists(errors) else ''
            raise AssertionError(f'child ended (status {status}) before hanging:\n{msg}')
        if time.time() > deadline:
            os.kill(pid, signal.SIGKILL)
            raise AssertionError('child never reached the write')
        time.sleep(0.05)
    time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    with open(ready) as f:
        half_written = f.read()
    return work, half_written


def _atomic_cfg(work, **kwargs):
    cfg = toy_runner_cfg(work, 6, ckpt_interval=2, max_keep_ckpts=1, **kwargs)
    cfg['default_hooks']['checkpoint']['type'] = 'AtomicCheckpointHook'
    return cfg


@pytest.mark.parametrize('target', ['iter_4.pth', 'last_checkpoint'])
def test_kill_during_save_then_resume(tmp_path, target):
    work, half_written = _kill_mid_write(tmp_path, target)
    assert osp.basename(half_written) != osp.basename(target)  # a temporary name
    # what the hook points last_checkpoint at before --resume reads it
    latest = find_latest_checkpoint(work)
    assert latest is not None and osp.isfile(latest), latest
    # whatever the pointer names is complete and loads tensors-only
    ckpt = load_checkpoint_file(latest)
    resumed_from = ckpt['meta']['iter']
    assert resumed_from in (2, 4)
    if target == 'iter_4.pth':
        assert resumed_from == 2 and not osp.exists(osp.join(work, 'iter_4.pth'))
    recorder = LossRecorder()
    runner = Runner(**_atomic_cfg(work, resume=True, custom_hooks=[recorder.hook]))
    runner.train()
    assert sorted(recorder.losses) == list(range(resumed_from + 1, 7))
    assert all(map(lambda v: v == v, recorder.losses.values()))
    # the run ends with one complete checkpoint and no temporaries
    names = sorted(os.listdir(work))
    assert 'iter_6.pth' in names
    assert not [n for n in names if n.endswith('.pth') and n != 'iter_6.pth']
    assert not [n for n in names if n.endswith('.tmp')], names


@pytest.mark.parametrize('pointer', ['missing', 'stale'])
def test_resume_falls_back_to_newest_complete_checkpoint(tmp_path, pointer):
    """A pointer that is gone or names a deleted file: the hook points it at
    the newest iter_N.pth before --resume reads it (no sidecar involved)."""
    work = str(tmp_path / 'work')
    cfg = _atomic_cfg(work)
    cfg['default_hooks']['checkpoint']['max_keep_ckpts'] = -1
    Runner(**cfg).train()
    names = sorted(n for n in os.listdir(work) if n.endswith('.pth'))
    assert names == ['iter_2.pth', 'iter_4.pth', 'iter_6.pth'], names
    os.remove(osp.join(work, 'iter_6.pth'))  # the pointer names it
    if pointer == 'missing':
        os.remove(osp.join(work, 'last_checkpoint'))
    recorder = LossRecorder()
    cfg = toy_runner_cfg(work, 6, ckpt_interval=2, resume=True, custom_hooks=[recorder.hook])
    cfg['default_hooks']['checkpoint']['type'] = 'AtomicCheckpointHook'
    Runner(**cfg).train()
    assert sorted(recorder.losses) == [5, 6]  # resumed after iteration 4


def test_upstream_writer_loses_the_checkpoint(tmp_path):
    """Control: with mmengine's own writer and rotation (max_keep_ckpts=1) the
    same kill leaves last_checkpoint naming a deleted file next to a truncated
    iter_4.pth, so the test above can fail."""
    work, half_written = _kill_mid_write(tmp_path, 'iter_4.pth', upstream=True)
    assert osp.basename(half_written) == 'iter_4.pth'  # written in place
    with open(osp.join(work, 'last_checkpoint')) as f:
        named = f.read().strip()
    assert named.endswith('iter_2.pth') and not osp.exists(named)
    with pytest.raises(RuntimeError, match='not a readable checkpoint'):
        load_checkpoint_file(osp.join(work, 'iter_4.pth'))
