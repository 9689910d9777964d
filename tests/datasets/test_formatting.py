"""PackAVInputs: keys, shapes, audio tiled over crops, labels."""
import numpy as np
import torch
from mmaction.registry import TRANSFORMS


def _results(num_clips=2, num_crops=3, label=4, valid=True):
    feat = np.stack([np.full((5, 13), c, np.float32) for c in range(num_clips)])
    return dict(imgs=np.zeros((num_crops * num_clips, 3, 4, 32, 32), np.uint8),
                audio_feature=feat, audio=np.ones((num_clips, 160), np.float32),
                audio_valid=valid, mask=np.ones((2, 2, 2), bool), label=label,
                num_clips=num_clips, filename='x.mp4',
                audio_window=np.zeros((num_clips, 2)))


def test_pack_shapes_and_tiling():
    packed = TRANSFORMS.build(dict(type='PackAVInputs'))(_results())
    inputs, sample = packed['inputs'], packed['data_samples']
    assert set(inputs) == {'imgs', 'audio', 'audio_valid', 'mask'}
    assert inputs['imgs'].shape == (6, 3, 4, 32, 32)
    assert inputs['audio'].shape == (6, 5, 13) and inputs['audio'].dtype == torch.float32
    # crop-major views: view v uses clip v % num_clips
    assert [int(inputs['audio'][v, 0, 0]) for v in range(6)] == [0, 1, 0, 1, 0, 1]
    assert inputs['audio_valid'].dtype == torch.bool and inputs['audio_valid'].item()
    assert inputs['mask'].dtype == torch.bool and inputs['mask'].shape == (2, 2, 2)
    assert int(sample.gt_label) == 4 and sample.metainfo['filename'] == 'x.mp4'


def test_pack_without_label_or_audio():
    res = _results(label=-1, valid=False)
    del res['audio_feature'], res['audio'], res['mask']
    packed = TRANSFORMS.build(dict(type='PackAVInputs'))(res)
    assert set(packed['inputs']) == {'imgs', 'audio_valid'}
    assert not packed['inputs']['audio_valid'].item()
    assert 'gt_label' not in packed['data_samples']


def test_pack_waveform_when_no_feature():
    res = _results(num_crops=1)
    del res['audio_feature']
    packed = TRANSFORMS.build(dict(type='PackAVInputs'))(res)
    assert packed['inputs']['audio'].shape == (2, 160)


def test_video_only_equals_mmaction_pack_action_inputs():
    import mmav_mask  # noqa: F401  (mmaction's transforms registered)
    res = _results()
    res['imgs'] = np.random.default_rng(0).integers(0, 255, res['imgs'].shape, dtype=np.uint8)
    ours = TRANSFORMS.build(dict(type='PackAVInputs', video_only=True))(dict(res))
    stock = TRANSFORMS.build(dict(type='PackActionInputs'))(dict(res))
    assert isinstance(ours['inputs'], torch.Tensor)
    assert torch.equal(ours['inputs'], stock['inputs'])
    assert int(ours['data_samples'].gt_label) == int(stock['data_samples'].gt_label) == 4
    assert 'video_only=True' in repr(TRANSFORMS.build(dict(type='PackAVInputs',
                                                           video_only=True)))
    import pytest
    with pytest.raises(KeyError, match='x.mp4'):
        TRANSFORMS.build(dict(type='PackAVInputs', video_only=True))(
            dict(filename='x.mp4', label=1))


def test_sample_key_is_stored_as_plain_int():
    from mmav_mask.datasets.samplers import SampleKey
    res = dict(_results(), sample_idx=SampleKey(7, seed=1, epoch=2))
    meta = TRANSFORMS.build(dict(type='PackAVInputs'))(res)['data_samples'].metainfo
    assert meta['sample_idx'] == 7 and type(meta['sample_idx']) is int


def test_video_is_packed_contiguous():
    """FormatShape's NCTHW is a transposed view; packed as a view, the batch would stay
    channels-last through stack_batch and normalisation into the model. The worker
    copies it instead, so the model gets a contiguous NCTHW batch."""
    res = _results(num_clips=1, num_crops=1)
    res['imgs'] = np.random.default_rng(1).random((1, 4, 32, 32, 3)).astype(
        np.float32).transpose(0, 4, 1, 2, 3)
    packed = TRANSFORMS.build(dict(type='PackAVInputs'))(dict(res))
    assert packed['inputs']['imgs'].is_contiguous()
    assert torch.equal(packed['inputs']['imgs'],
                       torch.from_numpy(np.ascontiguousarray(res['imgs'])))
