"""Every real clip (mp4/aac, UCF101 .avi/MP3, .mkv/Opus) decodes through the full
pipeline with non-silent audio."""
import os.path as osp

import numpy as np
import torch
from mmaction.registry import DATASETS, MODELS

PIPELINE = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=4, num_clips=1, test_mode=True),
    dict(type='LoadAlignedAudio'),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='CenterCrop', crop_size=64),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='AudioMFCC', num_rows=64),
    dict(type='TubeMaskGenerator', mask_ratio=0.9),
]


def test_all_real_clips_have_audio(real_clips_root):
    ann = osp.join(real_clips_root, 'annotations', 'clips_videos.txt')
    ds = DATASETS.build(dict(type='AVVideoDataset', ann_file=ann, pipeline=PIPELINE,
                             data_prefix=dict(video=osp.join(real_clips_root, 'videos')),
                             num_classes=9, missing_audio='error', test_mode=True))
    assert len(ds) == 12 and ds.num_without_audio == 0
    pack = __import__('mmaction.registry', fromlist=['TRANSFORMS']).TRANSFORMS.build(
        dict(type='PackAVInputs'))
    packed, exts = [], set()
    for i in range(len(ds)):
        res = ds[i]
        name = osp.basename(res['filename'])
        exts.add(osp.splitext(name)[1])
        assert res['audio_valid'] is True, name
        rms = float(np.sqrt(np.mean(res['audio'] ** 2)))
        assert rms > 1e-3, (name, rms)
        w0, w1 = res['audio_window'][0]
        assert res['audio'].shape == (1, int(round((w1 - w0) * 16000))), name
        assert np.isfinite(res['audio_feature']).all() and res['audio_feature'].std() > 0, name
        assert res['imgs'].shape == (1, 3, 16, 64, 64)
        packed.append(pack(res))
    assert exts == {'.mp4', '.avi', '.mkv'}
    # the whole batch through the data preprocessor
    pre = MODELS.build(dict(type='AVDataPreprocessor'))
    batch = pre(dict(inputs=[p['inputs'] for p in packed],
                     data_samples=[p['data_samples'] for p in packed]))
    inputs = batch['inputs']
    assert inputs['imgs'].shape == (12, 1, 3, 16, 64, 64)
    assert inputs['audio'].shape == (12, 1, 64, 13)
    assert inputs['audio_valid'].all() and inputs['mask'].shape == (12, 8, 4, 4)
    assert [int(s.gt_label) for s in batch['data_samples']] == [0, 1, 2, 3, 4, 4, 5, 5, 6, 6,
                                                                7, 8]
    assert torch.isfinite(inputs['imgs']).all()
