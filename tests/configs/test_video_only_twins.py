"""The video-only (VideoMAE) twins read no audio, yet see exactly the clips, frames,
flips and masks of their audio-visual configs: the comparison differs by the audio only."""
import copy
import os.path as osp
import random

import numpy as np
import pytest
import torch
from mmaction.registry import DATASETS
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmav_mask  # noqa: F401

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TWINS = [('avmask_demo_tiny.py', 'avmask_demo_tiny_videomae.py'),
         ('avmask_ucf101.py', 'avmask_ucf101_videomae.py')]
AUDIO_TRANSFORMS = {'LoadAlignedAudio', 'AudioMFCC'}


def _loader_dataset(cfg, split):
    ds = copy.deepcopy(cfg[f'{split}_dataloader'].dataset)
    return ds.dataset if ds.type == 'RepeatDataset' else ds


def _build(cfg, split, data_root):
    ds = _loader_dataset(cfg, split)
    ds.ann_file = osp.join(data_root, f"ucf101_{'train' if split == 'train' else 'val'}"
                                      '_split_1_videos.txt')
    ds.data_prefix = dict(video=osp.join(data_root, 'videos'))
    return DATASETS.build(ds)


@pytest.mark.parametrize('av_name,vo_name', TWINS)
def test_twin_pipelines_are_the_audio_visual_ones_without_audio(av_name, vo_name):
    av = Config.fromfile(osp.join(REPO, 'configs', av_name))
    vo = Config.fromfile(osp.join(REPO, 'configs', vo_name))
    for split in ('train', 'val', 'test'):
        av_types = [t['type'] for t in _loader_dataset(av, split).pipeline]
        vo_types = [t['type'] for t in _loader_dataset(vo, split).pipeline]
        assert AUDIO_TRANSFORMS <= set(av_types)
        assert vo_types == [t for t in av_types if t not in AUDIO_TRANSFORMS], split
        # same files, same missing-audio policy (it decides which clips are listed)
        av_ds, vo_ds = _loader_dataset(av, split), _loader_dataset(vo, split)
        for key in ('type', 'ann_file', 'data_prefix', 'missing_audio', 'audio_source'):
            assert av_ds.get(key) == vo_ds.get(key), (split, key)
    assert vo.model.audio_backbone is None and vo.model.fusion.type == 'NoFusion'


@pytest.mark.parametrize('split', ['train', 'val'])
def test_demo_twin_gets_the_same_frames_flips_and_masks(tiny_demo_data, split):
    """Item by item with the same seed: the twin's video and mask equal the AV run's,
    and its sample carries no audio (it is neither read nor computed)."""
    init_default_scope('mmaction')
    av = _build(Config.fromfile(osp.join(REPO, 'configs', 'avmask_demo_tiny.py')), split,
                tiny_demo_data)
    vo = _build(Config.fromfile(osp.join(REPO, 'configs', 'avmask_demo_tiny_videomae.py')),
                split, tiny_demo_data)
    assert len(av) == len(vo) > 0
    for i in range(len(av)):
        out = {}
        for name, ds in (('av', av), ('vo', vo)):
            random.seed(i), np.random.seed(i), torch.manual_seed(i)
            out[name] = ds[i]
        a, v = out['av']['inputs'], out['vo']['inputs']
        assert 'audio' in a and 'audio' not in v and 'audio_valid' not in v
        assert torch.equal(a['imgs'], v['imgs']), i
        assert torch.equal(a['mask'], v['mask']), i
        assert (out['av']['data_samples'].frame_inds == out['vo']['data_samples'].frame_inds).all()
    assert a['mask'].float().mean() == pytest.approx(0.875, abs=0.03)  # 0.9 of 4x4 tubes
