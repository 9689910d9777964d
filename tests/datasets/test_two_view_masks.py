"""MAViL's two disjoint masked views per modality (intra-modal contrast, Sec. 3.2)."""
import numpy as np
import pytest
import torch
from mmaction.registry import MODELS, TRANSFORMS
from mmengine.dataset import pseudo_collate

from mmav_mask.datasets.samplers import SampleKey

KEY = SampleKey(5, seed=123, epoch=2)


def _tube(**kw):
    # the paper's video: 8 x 224 x 224, tubelet 2, patch 16 -> (4, 14, 14)
    return TRANSFORMS.build(dict(type='TubeMaskGenerator', mask_ratio=0.8,
                                 input_size=(8, 224, 224), **kw))


def _audio(**kw):
    # the paper's audio: 1024 x 128 fbank, 16 x 16 patches -> (64, 8) = 512 tokens
    return TRANSFORMS.build(dict(type='AudioMaskGenerator', mask_ratio=0.8,
                                 input_size=(1024, 128), **kw))


def _video_random(**kw):
    return TRANSFORMS.build(dict(type='RandomMaskGenerator', mask_ratio=0.8,
                                 input_size=(4, 14, 14), key='mask', **kw))


@pytest.mark.parametrize('build, key, view2, shape, visible', [
    # int(0.8 * 196) = 156 masked per slice -> 40 visible per slice, 160 in 4 slices
    (_tube, 'mask', 'mask_view2', (4, 14, 14), 160),
    # int(0.8 * 784) = 627 masked -> 157 visible
    (_video_random, 'mask', 'mask_view2', (4, 14, 14), 157),
    # int(0.8 * 512) = 409 masked -> 103 visible (the paper's 103 audio tokens)
    (_audio, 'audio_mask', 'audio_mask_view2', (64, 8), 103),
], ids=['tube', 'video_random', 'audio'])
def test_views_are_disjoint_with_the_same_ratio(build, key, view2, shape, visible):
    plain = build()(dict(sample_idx=KEY))[key]
    out = build(second_view_key=view2)(dict(sample_idx=KEY))
    first, second = out[key], out[view2]
    assert first.shape == second.shape == shape and second.dtype == bool
    assert int((~first).sum()) == int((~second).sum()) == visible
    assert not np.any(~first & ~second)  # no token visible in both views
    assert np.array_equal(first, plain)  # asking for a second view leaves the first alone


def test_tube_second_view_is_a_tube():
    out = _tube(second_view_key='mask_view2')(dict(sample_idx=KEY))
    second = out['mask_view2']
    assert all(np.array_equal(second[t], second[0]) for t in range(4))
    assert int((~second[0]).sum()) == 40


def test_second_view_deterministic_per_key():
    gen = _audio(second_view_key='audio_mask_view2')
    first = gen(dict(sample_idx=KEY))['audio_mask_view2']
    np.random.seed(0)  # the global generator plays no part under a SampleKey
    for i in range(3):
        gen(dict(sample_idx=SampleKey(i, 1, 0)))
    assert np.array_equal(gen(dict(sample_idx=KEY))['audio_mask_view2'], first)
    # each part of (seed, epoch, index) changes it
    for other in (SampleKey(6, 123, 2), SampleKey(5, 124, 2), SampleKey(5, 123, 3)):
        assert not np.array_equal(gen(dict(sample_idx=other))['audio_mask_view2'], first)
    # it is keyed on its own results key (another name -> another draw)
    renamed = _audio(second_view_key='other_view')(dict(sample_idx=KEY))['other_view']
    assert not np.array_equal(renamed, first)
    # an explicit seed with a plain index is a fixed mask (evaluation pipelines)
    seeded = _tube(seed=3, second_view_key='mask_view2')
    assert np.array_equal(seeded(dict(sample_idx=4))['mask_view2'],
                          seeded(dict(sample_idx=4))['mask_view2'])


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match='mask_ratio >= 0.5'):
        TRANSFORMS.build(dict(type='TubeMaskGenerator', mask_ratio=0.4,
                              second_view_key='mask_view2'))
    with pytest.raises(ValueError, match='differ'):
        TRANSFORMS.build(dict(type='RandomMaskGenerator', mask_ratio=0.8, key='m',
                              second_view_key='m'))
    with pytest.raises(ValueError, match="mode='random'"):
        _audio(mode='time', second_view_key='audio_mask_view2')


def test_pack_and_preprocessor_carry_the_second_views():
    tube = _tube(second_view_key='mask_view2')
    audio = TRANSFORMS.build(dict(type='AudioMaskGenerator', mask_ratio=0.8,
                                  second_view_key='audio_mask_view2'))
    pack = TRANSFORMS.build(dict(type='PackAVInputs'))
    samples = []
    for i in range(2):
        results = dict(sample_idx=SampleKey(i, 0, 0),
                       imgs=np.zeros((1, 3, 8, 224, 224), dtype=np.uint8),
                       input_shape=(1, 3, 8, 224, 224),
                       audio_feature=np.zeros((1, 64, 32), dtype=np.float32))
        samples.append(pack(audio(tube(results))))
    inputs = samples[0]['inputs']
    assert set(inputs) == {'imgs', 'audio', 'mask', 'mask_view2', 'audio_mask',
                           'audio_mask_view2'}
    batch = MODELS.build(dict(type='AVDataPreprocessor'))(pseudo_collate(samples))['inputs']
    assert batch['mask_view2'].shape == (2, 4, 14, 14)
    assert batch['audio_mask_view2'].shape == (2, 4, 2)
    for i in range(2):
        s = samples[i]['inputs']
        assert torch.equal(batch['mask_view2'][i], s['mask_view2'])
        assert not torch.any(~batch['mask'][i] & ~batch['mask_view2'][i])
        assert not torch.any(~batch['audio_mask'][i] & ~batch['audio_mask_view2'][i])
