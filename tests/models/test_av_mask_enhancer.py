"""AVMaskEnhancer on synthetic tensors: modes, views, audio plumbing, overfitting."""
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.optim import OptimWrapper
from torch import nn

from mmav_mask.models.necks import NoFusion

GRID = (2, 2, 3)  # T' H' W' for 4 frames of 32 x 48


@MODELS.register_module(name='_TestAudioMean', force=True)
class _TestAudioMean(nn.Module):
    """Audio 'encoder': (B, L, F) -> (B, 2, out_dim) time-pooled linear tokens."""

    def __init__(self, in_features=5, out_dim=32):
        super().__init__()
        self.out_dim = out_dim
        self.proj = nn.Linear(in_features, out_dim)

    def forward(self, audio):
        return self.proj(audio).unflatten(1, (2, -1)).mean(2)


@MODELS.register_module(name='_TestAddAudioFusion', force=True)
class _TestAddAudioFusion(NoFusion):
    """NoFusion + a linear map of the mean audio token, only where audio is valid."""

    def __init__(self, video_dim, decoder_dim, audio_dim=None):
        super().__init__(video_dim, decoder_dim, audio_dim)
        self.audio_proj = nn.Linear(self.audio_dim, decoder_dim, bias=False)
        self.seen = {}

    @property
    def uses_audio(self):
        return True

    def forward_visible(self, video, video_time, audio=None, audio_valid=None, num_slices=1):
        self.seen['video_time'] = video_time
        out = self.encoder_to_decoder(video)
        if audio is None:
            return out
        add = self.audio_proj(audio.mean(1))[:, None]
        return out + add * audio_valid[:, None, None].to(out.dtype)

    def forward_decoder(self, tokens, token_time, audio=None, audio_valid=None, num_slices=1):
        self.seen['token_time'] = token_time
        self.seen['num_slices'] = num_slices
        return tokens


def build(fusion=dict(type='NoFusion'), audio=False, **kw):
    cfg = dict(
        type='AVMaskEnhancer',
        backbone=dict(type='MaskedVideoViT', img_size=32, num_frames=4,
                      arch=dict(embed_dims=32, depth=1, num_heads=2)),
        decoder=dict(type='VideoMAEDecoder', embed_dims=16, depth=1, num_heads=2),
        fusion=fusion,
        audio_backbone=dict(type='_TestAudioMean') if audio else None, **kw)
    return MODELS.build(cfg)


def batch(n=2, views=1, seed=0, audio=False):
    g = torch.Generator().manual_seed(seed)
    imgs = torch.randn(n, views, 3, 4, 32, 48, generator=g)
    mask = torch.zeros(n, *GRID, dtype=torch.bool)
    for i in range(n):
        s = torch.zeros(GRID[1] * GRID[2], dtype=torch.bool)
        s[torch.randperm(GRID[1] * GRID[2], generator=g)[:4]] = True
        mask[i] = s.view(GRID[1:])
    inputs = dict(imgs=imgs, mask=mask)
    if audio:
        inputs['audio'] = torch.randn(n, views, 8, 5, generator=g)
        inputs['audio_valid'] = torch.tensor([True, False] * (n // 2))
    return inputs


def test_modes_and_shapes():
    model = build().eval()
    inputs = batch(n=2, views=2)
    pred = model(inputs, mode='tensor')
    assert pred.shape == (4, 2 * 4, 3 * 2 * 16 * 16)
    loss = model(inputs, mode='loss')
    assert set(loss) == {'loss_rec'} and loss['loss_rec'].ndim == 0
    samples = [ActionDataSample() for _ in range(2)]
    out = model(inputs, samples, mode='predict')
    assert out is samples
    head = model.head
    imgs = inputs['imgs'].flatten(0, 1)
    mask = inputs['mask'].repeat_interleave(2, 0)
    per = head.per_sample_mse(pred, head.get_target(imgs, mask)).view(2, 2).mean(1)
    for i, s in enumerate(out):
        torch.testing.assert_close(s.rec_mse, per[i])
        assert 0 < s.rec_pixel_mse < 1 and torch.isfinite(s.rec_psnr)
        assert 'rec_video' not in s
    with pytest.raises(RuntimeError):
        model(inputs, mode='bogus')
    with pytest.raises(KeyError, match='mask'):
        model(dict(imgs=inputs['imgs']), mode='loss')


def test_predict_video_keeps_visible_pixels():
    model = build(predict_video=True).eval()
    inputs = batch(n=1, views=1)
    out = model(inputs, mode='predict')[0]
    assert out.rec_video.shape == (1, 3, 4, 32, 48)
    assert out.rec_mask.shape == (1, *GRID)
    pixels = model.head.unnormalize(inputs['imgs'][0]).clamp(0, 1)
    vis = ~out.rec_mask.repeat_interleave(2, 1).repeat_interleave(16, 2).repeat_interleave(16, 3)
    vis = vis[:, None].expand_as(pixels)
    torch.testing.assert_close(out.rec_video[vis], pixels[vis])


def test_no_fusion_ignores_audio_and_mask_token_init():
    model = build(audio=True).eval()  # NoFusion: the audio encoder must not run
    model.audio_backbone.forward = lambda *a: (_ for _ in ()).throw(AssertionError('ran'))
    inputs = batch(audio=True)
    with_audio = model(inputs, mode='tensor')
    inputs.pop('audio'), inputs.pop('audio_valid')
    torch.testing.assert_close(with_audio, model(inputs, mode='tensor'))
    assert model.mask_token.abs().max() <= 0.02 and model.mask_token.std() > 0


def test_audio_reaches_fusion_and_invalid_audio_equals_video_only():
    torch.manual_seed(0)
    av = build(fusion=dict(type='_TestAddAudioFusion'), audio=True).eval()
    video_only = build().eval()
    video_only.load_state_dict(av.state_dict(), strict=False)
    inputs = batch(n=2, audio=True)  # sample 0 has audio, sample 1 not
    out_av = av(inputs, mode='tensor')
    out_v = video_only(inputs, mode='tensor')
    torch.testing.assert_close(out_av[1], out_v[1])
    assert not torch.allclose(out_av[0], out_v[0])
    seen = av.fusion.seen
    assert seen['num_slices'] == GRID[0]
    # visible tokens come first, mask tokens after; time = index // (H' * W')
    vis_idx = (~inputs['mask'].flatten(1)).nonzero()[:, 1].view(2, -1)
    torch.testing.assert_close(seen['video_time'], vis_idx // 6)
    assert seen['token_time'].shape == (2, 12)
    with pytest.raises(ValueError, match='audio_backbone'):
        build(fusion=dict(type='_TestAddAudioFusion'))


def test_head_statistics_follow_the_data_preprocessor():
    model = build(data_preprocessor=dict(type='ActionDataPreprocessor', mean=[1., 2., 3.],
                                         std=[4., 5., 6.], format_shape='NCTHW'))
    torch.testing.assert_close(model.head.mean.flatten(), torch.tensor([1., 2., 3.]) / 255)
    torch.testing.assert_close(model.head.std.flatten(), torch.tensor([4., 5., 6.]) / 255)


def test_train_step_overfits_one_batch():
    torch.manual_seed(0)
    model = build()
    model.init_weights()
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=5e-3))
    data = dict(inputs=batch(n=2, views=1), data_samples=[ActionDataSample()] * 2)
    losses = [model.train_step(data, optim)['loss_rec'].item() for _ in range(20)]
    assert losses[-1] < 0.8 * losses[0], losses
