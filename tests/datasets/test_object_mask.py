"""LoadObjectMask: the object mask lines up with the decoded, resized frames of
the demo data (object pixels are the saturated ones), and bad uses are refused."""
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from mmaction.registry import TRANSFORMS
from mmengine.dataset import Compose

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory):
    out = tmp_path_factory.mktemp('objdemo')
    subprocess.run([sys.executable, osp.join(REPO, 'tools', 'data', 'make_demo_dataset.py'),
                    '--out', str(out), '--num-classes', '2', '--clips-per-class', '2',
                    '--duration', '1.5'], check=True, capture_output=True, timeout=120)
    return str(out)


def _pipeline(size):
    return Compose([TRANSFORMS.build(c) for c in [
        dict(type='DecordInit'),
        dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=2, test_mode=True),
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(size, size), keep_ratio=False),
        dict(type='LoadObjectMask'),
    ]])


@pytest.mark.parametrize('size', [64, 32])
def test_mask_marks_the_saturated_object_pixels(demo_root, size):
    with open(osp.join(demo_root, 'ucf101_train_split_1_videos.txt')) as f:
        rels = [line.split()[0] for line in f.read().splitlines()]
    seen_object = 0
    for rel in rels:
        res = _pipeline(size)(dict(filename=osp.join(demo_root, 'videos', rel), label=0,
                                  start_index=0, modality='RGB'))
        imgs = np.stack(res['imgs']).astype(float)              # (16, H, W, 3)
        mask = res['object_mask']
        assert mask.shape == imgs.shape[:3] and mask.dtype == bool
        saturation = imgs.max(-1) - imgs.min(-1)
        if mask.any():  # inside: full-saturation hues (dark stripes at 80 %: > 100)
            assert np.median(saturation[mask]) > 100, rel
            seen_object += 1
        # outside, away from the disc's anti-aliased rim: the muted background
        far = ~mask
        for axis in (1, 2):
            far &= ~np.roll(mask, 1, axis) & ~np.roll(mask, -1, axis)
        assert np.percentile(saturation[far], 99) < 100, rel
    assert seen_object >= 2


def test_refuses_crops_and_names_missing_sidecars(demo_root, tmp_path):
    t = TRANSFORMS.build(dict(type='LoadObjectMask'))
    video = osp.join(demo_root, 'videos', 'FastBeat', 'v_FastBeat_g01_c01.mp4')
    base = dict(filename=video, frame_inds=np.arange(4), img_shape=(64, 64))
    with pytest.raises(ValueError, match='crops or flips'):
        t(dict(base, crop_bbox=np.array([0, 0, 32, 32])))
    missing = str(tmp_path / 'nothing.mp4')
    with pytest.raises(FileNotFoundError, match='nothing.mp4'):
        t(dict(base, filename=missing))
    skip = TRANSFORMS.build(dict(type='LoadObjectMask', missing='skip'))
    assert 'object_mask' not in skip(dict(base, filename=missing))
