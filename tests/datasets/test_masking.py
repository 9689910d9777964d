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
