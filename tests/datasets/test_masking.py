"""Tube and random mask generators: VideoMAE semantics and exact counts."""
import numpy as np
import pytest
from mmaction.registry import TRANSFORMS


@pytest.mark.parametrize('ratio,size,expected_masked', [(0.9, (16, 224, 224), 176),
                                                        (0.75, (16, 224, 224), 147),
                                                        (0.5, (8, 64, 96), 12)])
def test_tube_mask_counts_and_tubes(ratio, size, expected_masked):
    gen = TRANSFORMS.build(dict(type='TubeMaskGenerator', mask_ratio=ratio, input_size=size))
    masks = []
    for _ in range(5):
        mask = gen({})['mask']
        t, h, w = size[0] // 2, size[1] // 16, size[2] // 16
        assert mask.dtype == bool and mask.shape == (t, h, w)
        assert (mask.reshape(t, -1).sum(1) == expected_masked).all()
        assert (mask == mask[:1]).all()  # same spatial mask in every slice
        masks.append(mask[0])
    assert any((m != masks[0]).any() for m in masks[1:])  # random per sample


def test_tube_mask_size_from_results():
    gen = TRANSFORMS.build(dict(type='TubeMaskGenerator', mask_ratio=0.9))
    formatted = dict(imgs=np.zeros((2, 3, 8, 32, 48), np.uint8), input_shape=(2, 3, 8, 32, 48))
    assert gen(formatted)['mask'].shape == (4, 2, 3)
    assert gen(dict(clip_len=4, img_shape=(64, 32)))['mask'].shape == (2, 4, 2)
    assert gen(dict(clip_len=4, img_shape=(64, 32)))['mask'].sum() == 2 * int(0.9 * 8)
    with pytest.raises(ValueError, match='divisible'):
        gen(dict(clip_len=3, img_shape=(64, 32)))
    with pytest.raises(KeyError):
        gen({})
    with pytest.raises(ValueError):
        TRANSFORMS.build(dict(type='TubeMaskGenerator', mask_ratio=1.0))


def test_random_mask_exact_count():
    gen = TRANSFORMS.build(dict(type='RandomMaskGenerator', mask_ratio=0.6))
    res = gen(dict(audio_feature=np.zeros((1, 64, 128), np.float32)))
    mask = res['audio_mask']
    assert mask.shape == (4, 8) and mask.sum() == int(0.6 * 32)
    video = TRANSFORMS.build(dict(type='RandomMaskGenerator', mask_ratio=0.9, key='mask',
                                  source_key='imgs', patch_size=(2, 16, 16)))
    m = video(dict(clip_len=16, img_shape=(224, 224)))['mask']
    assert m.shape == (8, 14, 14) and m.sum() == int(0.9 * 1568)
    assert not (m == m[:1]).all()  # unstructured, not tubes
    fixed = TRANSFORMS.build(dict(type='RandomMaskGenerator', mask_ratio=0.5, input_size=10))
    assert fixed({})['audio_mask'].sum() == 5


# ----------------------------------------------------------- keyed masks
import pickle  # noqa: E402

import torch  # noqa: E402
from mmengine.dataset import BaseDataset, DefaultSampler, pseudo_collate  # noqa: E402

from mmav_mask.datasets.samplers import KeyedSampler, SampleKey  # noqa: E402

GRID_SIZE = (4, 128, 128)  # -> (2, 8, 8) tubes, 57 of 64 patches masked


def _tube(**kw):
    return TRANSFORMS.build(dict(type='TubeMaskGenerator', mask_ratio=0.9,
                                 input_size=GRID_SIZE, **kw))


def test_keyed_mask_depends_only_on_seed_epoch_index():
    gen = _tube()
    key = SampleKey(5, seed=123, epoch=2)
    first = gen(dict(sample_idx=key))['mask']
    np.random.seed(999)  # history / global state must not matter
    for i in range(7):
        gen(dict(sample_idx=SampleKey(i, 1, 0)))
    assert np.array_equal(gen(dict(sample_idx=key))['mask'], first)
    # after pickling (what a DataLoader worker receives) it is the same key
    assert np.array_equal(gen(dict(sample_idx=pickle.loads(pickle.dumps(key))))['mask'], first)
    # each component of the key changes the mask (64 choose 7 tube masks)
    others = [SampleKey(5, 124, 2), SampleKey(5, 123, 3), SampleKey(6, 123, 2)]
    assert all(not np.array_equal(gen(dict(sample_idx=k))['mask'], first) for k in others)
    # exact count is kept
    assert first.reshape(2, -1).sum(1).tolist() == [57, 57]
    # two masks of one sample (video and audio) are drawn independently
    audio = TRANSFORMS.build(dict(type='RandomMaskGenerator', mask_ratio=0.5, input_size=16))
    video_like = TRANSFORMS.build(dict(type='RandomMaskGenerator', mask_ratio=0.5,
                                       input_size=16, key='mask'))
    assert not np.array_equal(audio(dict(sample_idx=key))['audio_mask'],
                              video_like(dict(sample_idx=key))['mask'])


def test_explicit_seed_and_legacy_fallback():
    seeded = _tube(seed=7)
    a = seeded(dict(sample_idx=3))['mask']
    np.random.seed(1)
    assert np.array_equal(seeded(dict(sample_idx=3))['mask'], a)
    # the explicit seed wins over the sampler's
    assert np.array_equal(seeded(dict(sample_idx=SampleKey(3, seed=99, epoch=0)))['mask'], a)
    # no key, no seed: numpy's global generator (seeded per worker by mmengine)
    legacy = _tube()
    np.random.seed(0)
    b = legacy(dict(sample_idx=3))['mask']
    np.random.seed(0)
    assert np.array_equal(legacy(dict(sample_idx=3))['mask'], b)
    assert 'seed=7' in repr(seeded)


class _MaskOnlyDataset(BaseDataset):
    """Ten samples whose pipeline only draws the tube mask."""

    def load_data_list(self):
        return [dict(clip=i) for i in range(10)]


def _masks(sampler_type, num_workers, epochs=(0, ), rounds=1, shuffle=False):
    dataset = _MaskOnlyDataset(pipeline=[dict(type='TubeMaskGenerator', mask_ratio=0.9,
                                              input_size=GRID_SIZE)], serialize_data=False)
    sampler = sampler_type(dataset, shuffle=shuffle, seed=2024)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=3, sampler=sampler, num_workers=num_workers,
        persistent_workers=num_workers > 0, collate_fn=pseudo_collate,
        worker_init_fn=lambda w: np.random.seed(1000 + w))  # mmengine-style worker seeds
    out = []
    for epoch in epochs:
        sampler.set_epoch(epoch)
        for _ in range(rounds):
            masks = {}
            for batch in loader:
                for idx, mask in zip(batch['sample_idx'], batch['mask']):
                    masks[int(idx)] = mask
            out.append(masks)
    return out


def _same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_eval_masks_identical_across_workers_and_rounds():
    main_proc = _masks(KeyedSampler, 0, rounds=2)
    workers = _masks(KeyedSampler, 2, rounds=2)
    assert len(main_proc[0]) == 10
    assert _same(main_proc[0], main_proc[1])            # two validation rounds
    assert _same(main_proc[0], workers[0]) and _same(workers[0], workers[1])  # 0 vs 2 workers
    # every sample's mask is the one its key defines (ground truth: the key alone)
    for idx, mask in main_proc[0].items():
        assert np.array_equal(mask, _tube()(dict(sample_idx=SampleKey(idx, 2024, 0)))['mask'])
    # the same check fails for the global-RNG path (DefaultSampler)
    legacy = _masks(DefaultSampler, 0, rounds=2)
    assert not _same(legacy[0], legacy[1])
    assert not _same(_masks(DefaultSampler, 2)[0], legacy[0])


def test_train_masks_follow_the_epoch_and_replay_free():
    by_epoch = _masks(KeyedSampler, 2, epochs=(0, 1), shuffle=True)
    assert not _same(by_epoch[0], by_epoch[1])  # new masks every epoch
    # epoch 1 on its own (a resumed run that skipped epoch 0) gives the same masks
    assert _same(_masks(KeyedSampler, 0, epochs=(1, ), shuffle=True)[0], by_epoch[1])
