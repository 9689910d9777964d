"""Exact resume: a run crashed after k iterations and resumed with resume=True
repeats the uninterrupted run's losses at k+1..k+m bit for bit (CPU,
deterministic mode)."""
import os.path as osp
import types

import pytest
from mmengine.runner import Runner
from mmengine.runner import loops as loops_mod

from _toy import CrashAfter, LossRecorder, toy_runner_cfg
from mmav_mask.engine import ExactResumeHook

K, M = 3, 3  # crash after 3 iterations (checkpoint at 3), compare 4..6; epoch = 4 iters


@pytest.fixture(autouse=True)
def no_epoch_sleep(monkeypatch):
    # mmengine sleeps 2 s at every epoch end of an iteration-based run.
    import time
    monkeypatch.setattr(loops_mod, 'time', types.SimpleNamespace(sleep=lambda s: None,
                                                                 time=time.time))


def _train(work_dir, hooks, resume=False, crash_at=None, num_workers=0):
    recorder = LossRecorder()
    custom = [recorder.hook] + list(hooks)
    if crash_at is not None:
        custom.append(CrashAfter(crash_at).hook)
    runner = Runner(**toy_runner_cfg(work_dir, K + M, ckpt_interval=K, resume=resume,
                                     custom_hooks=custom, num_workers=num_workers))
    try:
        runner.train()
    except CrashAfter.Crash:
        pass
    return recorder.losses


def _interrupted_then_resumed(tmp_path, make_hooks, num_workers=0):
    full = _train(str(tmp_path / 'full'), make_hooks(), num_workers=num_workers)
    work = str(tmp_path / 'split')
    first = _train(work, make_hooks(), crash_at=K, num_workers=num_workers)
    assert sorted(first) == list(range(1, K + 1))
    assert osp.isfile(osp.join(work, f'iter_{K}.pth'))
    resumed = _train(work, make_hooks(), resume=True, num_workers=num_workers)
    assert sorted(full) == list(range(1, K + M + 1))
    assert sorted(resumed) == list(range(K + 1, K + M + 1)), 'did not resume at k+1'
    # before the crash the two runs are the same run
    assert [first[i] for i in range(1, K + 1)] == [full[i] for i in range(1, K + 1)]
    return full, resumed


@pytest.mark.parametrize('num_workers', [0, 1])
def test_resume_reproduces_losses_exactly(tmp_path, num_workers):
    full, resumed = _interrupted_then_resumed(
        tmp_path, lambda: [ExactResumeHook()], num_workers=num_workers)
    for it in range(K + 1, K + M + 1):
        assert resumed[it] == full[it], (it, resumed[it], full[it])


def test_plain_mmengine_resume_is_not_exact(tmp_path):
    """Control: the toy has randomness in the model (dropout) and the
    main-process pipeline, which plain mmengine resume does not restore, so the
    comparison above is able to fail."""
    full, resumed = _interrupted_then_resumed(tmp_path, lambda: [])
    assert any(resumed[it] != full[it] for it in range(K + 1, K + M + 1))
