"""TalkNetAudioEncoder: shapes, orientation (frequency pooled, time kept),
4x time downsampling, dilation, freezing, and use inside MMAction2's
RecognizerAudio on MMAction2's own audio pipeline."""
import numpy as np
import pytest
import torch
from mmaction.registry import MODELS, TRANSFORMS
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope

from mmav_mask.models.backbones import TalkNetAudioEncoder


def _encoder(**kwargs) -> TalkNetAudioEncoder:
    torch.manual_seed(0)
    return MODELS.build(dict(type='TalkNetAudioEncoder', **kwargs))


def test_tokens_shape_and_input_layouts():
    enc = _encoder(out_dim=24, num_tokens=16).eval()
    audio = torch.randn(3, 64, 13)  # (B, L, F): 64 MFCC rows = 16 frames at 25 fps
    out = enc(audio)
    assert out.shape == (3, 16, 24)
    # (B, 1, L, F) is the same input with a channel axis
    assert torch.equal(enc(audio[:, None]), out)
    assert torch.isfinite(out).all()
    with pytest.raises(ValueError):
        enc(torch.randn(64, 13))


def test_frequency_pooled_time_kept_and_downsampled_4x():
    """Token count follows time (L / 4) and ignores frequency (the fork's bug
    pooled time and kept frequency bins)."""
    enc = _encoder(out_dim=8, num_tokens=None).eval()
    assert enc.time_downsample == 4
    assert enc(torch.randn(2, 64, 13)).shape == (2, 16, 8)
    assert enc(torch.randn(2, 128, 13)).shape == (2, 32, 8)
    assert enc(torch.randn(2, 64, 40)).shape == (2, 16, 8)
    fmap = enc.forward_features(torch.randn(2, 64, 13))
    assert fmap.shape == (2, 128, 2, 16)  # (B, C, F'=ceil(13/8), L/4)


def test_adaptive_tokens_are_time_bins():
    """num_tokens pools the L/4 steps into equal time bins (here 16 -> 4: 4 steps each)."""
    enc = _encoder(out_dim=8, num_tokens=None).eval()
    enc4 = _encoder(out_dim=8, num_tokens=4).eval()
    enc4.load_state_dict(enc.state_dict())
    audio = torch.randn(2, 64, 13)
    with torch.no_grad():
        steps = enc.forward_features(audio).mean(dim=2)  # (B, C, 16)
        expected = enc.proj(steps.reshape(2, 128, 4, 4).mean(-1).transpose(1, 2))
        torch.testing.assert_close(enc4(audio), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('dilation, downsample', [(True, 1), ((True, False, False), 2),
                                                  ((False, True, True), 2)])
def test_dilation_keeps_time_resolution(dilation, downsample):
    enc = _encoder(out_dim=8, num_tokens=None, dilation=dilation).eval()
    assert enc.time_downsample == downsample
    fmap = enc.forward_features(torch.randn(2, 64, 13))
    assert fmap.shape == (2, 128, 2, 64 // downsample)
    # dilated stage convs: time dilation > 1, frequency dilation 1
    dils = {m.dilation for m in enc.layer3.modules() if isinstance(m, torch.nn.Conv2d)
            and m.kernel_size == (3, 3)}
    if dilation is True:
        assert (1, 4) in dils and all(d[0] == 1 for d in dils)
    # the weights are the same shapes as the strided encoder's (a drop-in option)
    plain = _encoder(out_dim=8, num_tokens=None)
    assert {k: v.shape for k, v in plain.state_dict().items()} == \
        {k: v.shape for k, v in enc.state_dict().items()}
    assert enc(torch.randn(2, 64, 13)).shape == (2, 64 // downsample, 8)


def test_gradients_reach_every_parameter():
    enc = _encoder(out_dim=8, num_tokens=16).train()
    enc(torch.randn(2, 64, 13)).square().mean().backward()
    for name, p in enc.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert enc.proj.weight.grad.abs().sum() > 0


def test_frozen_stages_and_norm_eval():
    enc = _encoder(out_dim=8, frozen_stages=1, norm_eval=True).train()
    assert not any(p.requires_grad for p in enc.conv1.parameters())
    assert not any(p.requires_grad for p in enc.layer1.parameters())
    assert all(p.requires_grad for p in enc.layer2.parameters())
    assert not enc.layer3[0].bn1.training


def test_bad_arguments():
    with pytest.raises(ValueError):
        _encoder(out_type='vector')
    with pytest.raises(ValueError):
        _encoder(dilation=(True, False))


def test_recognizer_audio_on_mmaction_audio_pipeline(tmp_path):
    """RecognizerAudio + TSNAudioHead with the encoder as backbone, fed by
    MMAction2's LoadAudioFeature / SampleFrames / AudioFeatureSelector /
    FormatAudioShape('NCTF') / PackActionInputs -> (N, 1, 1, T, F) batches."""
    # nested configs (data preprocessor, loss) resolve in mmaction's scope
    with DefaultScope.overwrite_default_scope('mmaction'):
        _run_recognizer_audio(tmp_path)


def _run_recognizer_audio(tmp_path):
    pipeline = Compose([TRANSFORMS.build(t) for t in [
        dict(type='LoadAudioFeature'),
        dict(type='SampleFrames', clip_len=32, frame_interval=1, num_clips=1),
        dict(type='AudioFeatureSelector', fixed_length=64),
        dict(type='FormatAudioShape', input_format='NCTF'),
        dict(type='PackActionInputs')]])
    rng = np.random.default_rng(0)
    samples = []
    for i in range(3):
        path = tmp_path / f'clip{i}.npy'
        np.save(path, rng.random((200, 80), dtype=np.float32))  # (rows, freq bins)
        samples.append(pipeline(dict(audio_path=str(path), total_frames=50, start_index=0,
                                     label=i % 2)))
    # a clip without an audio file: LoadAudioFeature pads with its (640, 80) dummy
    samples.append(pipeline(dict(audio_path=str(tmp_path / 'none.npy'), total_frames=50,
                                 start_index=0, label=1)))
    assert tuple(samples[0]['inputs'].shape) == (1, 1, 64, 80)

    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='RecognizerAudio',
        backbone=dict(type='TalkNetAudioEncoder', out_type='feature_map'),
        cls_head=dict(type='TSNAudioHead', num_classes=2, in_channels=128,
                      dropout_ratio=0.5, average_clips='prob'),
        data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTF')))
    model.init_weights()

    data = model.data_preprocessor(pseudo_collate(samples), training=True)
    assert data['inputs'].shape == (4, 1, 1, 64, 80)
    feats, _ = model.extract_feat(data['inputs'])
    assert feats.dim() == 4 and feats.shape[:2] == (4, 128) and feats.shape[3] == 16

    model.train()
    losses = model(**data, mode='loss')
    assert torch.isfinite(losses['loss_cls'])
    losses['loss_cls'].backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0

    model.eval()
    with torch.no_grad():
        preds = model(**model.data_preprocessor(pseudo_collate(samples), training=False),
                      mode='predict')
    assert len(preds) == 4
    for p in preds:
        assert p.pred_score.shape == (2, )
        torch.testing.assert_close(p.pred_score.sum(), torch.tensor(1.0))


def test_autocast_bfloat16():
    enc = _encoder(out_dim=8).eval()
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        out = enc(torch.randn(2, 64, 13))
    assert out.shape == (2, 16, 8) and torch.isfinite(out.float()).all()
