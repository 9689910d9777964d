"""AVDataPreprocessor: batching, normalisation, mixup on video and audio."""
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.dataset import pseudo_collate

import mmav_mask  # noqa: F401

MEAN = torch.tensor([123.675, 116.28, 103.53]).view(1, 1, 3, 1, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(1, 1, 3, 1, 1, 1)


def _sample(seed, label, valid=True):
    g = torch.Generator().manual_seed(seed)
    inputs = dict(imgs=torch.randint(0, 256, (2, 3, 4, 16, 16), generator=g, dtype=torch.uint8),
                  audio=torch.randn(2, 8, 13, generator=g) if valid else torch.zeros(2, 8, 13),
                  audio_valid=torch.tensor(valid),
                  mask=torch.rand(2, 1, 1, generator=g).expand(2, 2, 2) > 0.5)
    return dict(inputs=inputs, data_samples=ActionDataSample().set_gt_label(label))


def test_shapes_and_normalisation():
    batch = pseudo_collate([_sample(0, 1), _sample(1, 2, valid=False), _sample(2, 0)])
    pre = MODELS.build(dict(type='AVDataPreprocessor'))
    out = pre(batch, training=False)
    inputs = out['inputs']
    imgs = torch.stack([b['imgs'] for b in [_sample(0, 1)['inputs'], _sample(1, 2)['inputs'],
                                            _sample(2, 0)['inputs']]]).float()
    assert inputs['imgs'].shape == (3, 2, 3, 4, 16, 16)
    torch.testing.assert_close(inputs['imgs'], (imgs - MEAN) / STD)
    assert inputs['audio'].shape == (3, 2, 8, 13)
    assert inputs['audio_valid'].tolist() == [True, False, True]
    assert inputs['mask'].shape == (3, 2, 2, 2) and inputs['mask'].dtype == torch.bool
    assert len(out['data_samples']) == 3
    # a list of per-sample dicts is accepted too
    out2 = pre(dict(inputs=[_sample(0, 1)['inputs']], data_samples=[_sample(0, 1)[
        'data_samples']]))
    assert out2['inputs']['imgs'].shape == (1, 2, 3, 4, 16, 16)


def test_custom_mean_std():
    pre = MODELS.build(dict(type='AVDataPreprocessor', mean=[0, 0, 0], std=[255, 255, 255]))
    out = pre(pseudo_collate([_sample(0, 1)]))
    assert 0.0 <= out['inputs']['imgs'].min() and out['inputs']['imgs'].max() <= 1.0


def test_mixup_mixes_audio_like_video():
    pre = MODELS.build(dict(type='AVDataPreprocessor',
                            blending=dict(type='MixupBlending', num_classes=3, alpha=1.0)))
    batch = pseudo_collate([_sample(0, 1), _sample(1, 2, valid=False), _sample(2, 0)])
    plain = MODELS.build(dict(type='AVDataPreprocessor'))(batch)['inputs']
    torch.manual_seed(3)
    out = pre(batch, training=True)
    mixed = out['inputs']
    # recover lam and the partner of every sample from the video, check the audio
    v, a = plain['imgs'].flatten(1), plain['audio'].flatten(1)
    found = 0
    for i in range(3):
        for j in range(3):
            # mixed_i = lam * x_i + (1 - lam) * x_j; solve lam from the video
            d = v[i] - v[j]
            if d.abs().sum() == 0:
                continue
            lam = ((mixed['imgs'].flatten(1)[i] - v[j]) @ d / (d @ d)).item()
            if torch.allclose(lam * v[i] + (1 - lam) * v[j], mixed['imgs'].flatten(1)[i],
                              atol=1e-3):
                torch.testing.assert_close(mixed['audio'].flatten(1)[i],
                                           lam * a[i] + (1 - lam) * a[j], atol=1e-4,
                                           rtol=1e-4)
                found += 1
                break
    assert found == 3
    assert out['data_samples'][0].gt_label.shape == (3, )  # soft labels
    assert mixed['audio_valid'].dtype == torch.bool


def test_video_only_batches_match_action_data_preprocessor():
    """PackActionInputs / PackAVInputs(video_only=True) batches come back as
    ActionDataPreprocessor returns them (a tensor), so Recognizer3D can read them."""
    samples = [dict(inputs=_sample(i, i)['inputs']['imgs'],
                    data_samples=ActionDataSample().set_gt_label(i)) for i in range(2)]
    ours = MODELS.build(dict(type='AVDataPreprocessor', format_shape='NCTHW'))(
        pseudo_collate(samples))
    stock = MODELS.build(dict(type='ActionDataPreprocessor', mean=MEAN.flatten().tolist(),
                              std=STD.flatten().tolist(), format_shape='NCTHW'))(
        pseudo_collate(samples))
    assert isinstance(ours['inputs'], torch.Tensor)
    torch.testing.assert_close(ours['inputs'], stock['inputs'])
    with pytest.raises(ValueError, match='NCTHW'):
        MODELS.build(dict(type='AVDataPreprocessor', format_shape='NCHW'))
