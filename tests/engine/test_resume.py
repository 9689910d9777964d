"""Exact resume: a run crashed after k iterations and resumed with resume=True
repeats the uninterrupted run's losses at k+1..k+m bit for bit (CPU,
deterministic mode)."""
import os.path as osp
import types
from functools import partial

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


def _train(work_dir, hooks, resume=False, crash_at=None, num_workers=0,
           checkpoint_hook='CheckpointHook'):
    recorder = LossRecorder()
    custom = [recorder.hook] + list(hooks)
    if crash_at is not None:
        custom.append(CrashAfter(crash_at).hook)
    cfg = toy_runner_cfg(work_dir, K + M, ckpt_interval=K, resume=resume,
                         custom_hooks=custom, num_workers=num_workers)
    cfg['default_hooks']['checkpoint']['type'] = checkpoint_hook
    return _run(Runner(**cfg), recorder)


def _run(runner, recorder):
    try:
        runner.train()
    except CrashAfter.Crash:
        pass
    return recorder.losses


def _interrupted_then_resumed(tmp_path, make_hooks, num_workers=0,
                              checkpoint_hook='CheckpointHook'):
    train = partial(_train, num_workers=num_workers, checkpoint_hook=checkpoint_hook)
    full = train(str(tmp_path / 'full'), make_hooks())
    work = str(tmp_path / 'split')
    first = train(work, make_hooks(), crash_at=K)
    assert sorted(first) == list(range(1, K + 1))
    assert osp.isfile(osp.join(work, f'iter_{K}.pth'))
    resumed = train(work, make_hooks(), resume=True)
    assert sorted(full) == list(range(1, K + M + 1))
    assert sorted(resumed) == list(range(K + 1, K + M + 1)), 'did not resume at k+1'
    # before the crash the two runs are the same run
    assert [first[i] for i in range(1, K + 1)] == [full[i] for i in range(1, K + 1)]
    return full, resumed


@pytest.mark.parametrize('num_workers,checkpoint_hook', [
    (0, 'CheckpointHook'), (1, 'CheckpointHook'), (0, 'AtomicCheckpointHook')])
def test_resume_reproduces_losses_exactly(tmp_path, num_workers, checkpoint_hook):
    """Also with AtomicCheckpointHook, whose checkpoints hold only types that
    load tensors-only (message hub included)."""
    full, resumed = _interrupted_then_resumed(
        tmp_path, lambda: [ExactResumeHook()], num_workers=num_workers,
        checkpoint_hook=checkpoint_hook)
    for it in range(K + 1, K + M + 1):
        assert resumed[it] == full[it], (it, resumed[it], full[it])


def test_plain_mmengine_resume_is_not_exact(tmp_path):
    """Control: the toy has randomness in the model (dropout) and the
    main-process pipeline, which plain mmengine resume does not restore, so the
    comparison above is able to fail."""
    full, resumed = _interrupted_then_resumed(tmp_path, lambda: [])
    assert any(resumed[it] != full[it] for it in range(K + 1, K + M + 1))


def test_epoch_based_resume_is_exact(tmp_path):
    """EpochBasedTrainLoop resumes at epoch boundaries: 2 epochs of 4 iterations,
    crash after epoch 1 (its checkpoint), resume, compare epoch 2."""
    def train(work, resume=False, crash_at=None):
        recorder = LossRecorder()
        hooks = [recorder.hook, ExactResumeHook()]
        if crash_at:
            hooks.append(CrashAfter(crash_at).hook)
        runner = Runner(**toy_runner_cfg(work, 2, ckpt_interval=1, resume=resume,
                                         custom_hooks=hooks, by_epoch=True))
        return _run(runner, recorder)

    full = train(str(tmp_path / 'full'))
    work = str(tmp_path / 'split')
    first = train(work, crash_at=5)  # after_train_iter of iteration 5 -> epoch 1 saved
    assert osp.isfile(osp.join(work, 'epoch_1.pth'))
    resumed = train(work, resume=True)
    assert sorted(full) == list(range(1, 9)) and sorted(resumed) == list(range(5, 9))
    assert [first[i] for i in range(1, 5)] == [full[i] for i in range(1, 5)]
    assert [resumed[i] for i in range(5, 9)] == [full[i] for i in range(5, 9)]


# ------------------------------------------------- our model on demo clips
def _demo_data(root):
    import subprocess
    import sys
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    subprocess.run([sys.executable, osp.join(repo, 'tools', 'data', 'make_demo_dataset.py'),
                    '--out', root, '--num-classes', '2', '--clips-per-class', '3',
                    '--size', '40', '--duration', '1.2'], check=True, capture_output=True)
    return root


def _avmask_runner(work, data_root, hooks, resume=False, num_workers=0, max_iters=K + M):
    import torch
    torch.manual_seed(0)
    pipeline = [
        dict(type='DecordInit'),
        dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1),
        dict(type='LoadAlignedAudio'),
        dict(type='DecordDecode'),
        dict(type='AudioMFCC', num_rows=16),
        dict(type='RandomResizedCrop', area_range=(0.5, 1.0)),  # random
        dict(type='Resize', scale=(32, 32), keep_ratio=False),
        dict(type='Flip', flip_ratio=0.5),  # random
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='TubeMaskGenerator', mask_ratio=0.5, patch_size=16, tubelet_size=2),  # random
        dict(type='PackAVInputs'),
    ]
    model = dict(
        type='AVMaskEnhancer',
        data_preprocessor=dict(type='AVDataPreprocessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375]),
        backbone=dict(type='MaskedVideoViT', img_size=32, num_frames=4, drop_path_rate=0.2,
                      arch=dict(embed_dims=32, depth=2, num_heads=2)),  # random drop path
        audio_backbone=dict(type='TalkNetAudioEncoder', out_dim=32, num_tokens=4,
                            layers=(1, 1, 1, 1), widths=(4, 8, 8, 16)),
        fusion=dict(type='CrossAttentionFusion', num_heads=2, dropout=0.2),  # random
        decoder=dict(type='VideoMAEDecoder', embed_dims=16, depth=1, num_heads=2),
        head=dict(type='PixelReconstructionHead', norm_pix=True))
    cfg = toy_runner_cfg(work, max_iters, ckpt_interval=K, resume=resume, custom_hooks=hooks,
                         num_workers=num_workers, model=model)
    # the configs' checkpoint hook: tensors-only checkpoints of the real model
    cfg['default_hooks']['checkpoint']['type'] = 'AtomicCheckpointHook'
    cfg['train_dataloader'] = dict(
        batch_size=2, num_workers=num_workers, persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dict(type='AVVideoDataset',
                     ann_file=osp.join(data_root, 'ucf101_train_split_1_videos.txt'),
                     data_prefix=dict(video=osp.join(data_root, 'videos')),
                     pipeline=pipeline))
    return Runner(**cfg)


@pytest.mark.slow  # makes demo clips in a subprocess, trains the real model 3 times
def test_avmask_resume_is_exact_on_demo_clips(tmp_path):
    """Our tiny AVMaskEnhancer (drop path, fusion dropout) on decoded demo clips
    with random crop, flip and tube masks: 4 clips / batch 2 = 2 iterations per
    epoch, so the resumed run also crosses epochs (sampler set_epoch)."""
    data = _demo_data(str(tmp_path / 'demo'))

    def train(work, resume=False, crash_at=None):
        recorder = LossRecorder()
        hooks = [recorder.hook, ExactResumeHook()]
        if crash_at:
            hooks.append(CrashAfter(crash_at).hook)
        return _run(_avmask_runner(work, data, hooks, resume=resume), recorder)

    full = train(str(tmp_path / 'full'))
    work = str(tmp_path / 'split')
    first = train(work, crash_at=K)
    resumed = train(work, resume=True)
    assert sorted(full) == list(range(1, K + M + 1))
    assert sorted(resumed) == list(range(K + 1, K + M + 1))
    assert [first[i] for i in range(1, K + 1)] == [full[i] for i in range(1, K + 1)]
    assert [resumed[i] for i in range(K + 1, K + M + 1)] == \
        [full[i] for i in range(K + 1, K + M + 1)]
    # the losses move (the comparison is not between constants)
    assert len(set(full.values())) == K + M
