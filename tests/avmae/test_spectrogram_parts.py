"""Spectrogram ViT, audio masks and spectrogram head of Audiovisual MAE."""
import math

import numpy as np
import pytest
import torch
from mmaction.registry import MODELS, TRANSFORMS

from mmav_mask.models.backbones.spectrogram_vit import sincos_2d_position_table


@pytest.mark.parametrize('seconds,grid', [(8, (50, 8)), (10, (62, 8))])
def test_vit_shapes_for_8_and_10_seconds(seconds, grid):
    """128 bins x 100 rows/s: 8 s -> 50 x 8 = 400 tokens (the paper); 10 s -> 62 x 8
    (the last 8 of 1000 rows are not a whole patch)."""
    vit = MODELS.build(dict(type='SpectrogramViT', arch='tiny', input_size=(800, 128)))
    audio = torch.randn(2, seconds * 100, 128)
    assert vit(audio).shape == (2, grid[0] * grid[1], 96)
    mask = TRANSFORMS.build(dict(type='AudioMaskGenerator', mask_ratio=0.5))(
        dict(audio_feature=np.zeros((1, seconds * 100, 128), np.float32)))['audio_mask']
    assert mask.shape == grid
    masks = torch.from_numpy(np.stack([mask, mask]))
    n_vis = grid[0] * grid[1] - int(0.5 * grid[0] * grid[1])
    assert vit(audio, masks).shape == (2, n_vis, 96)
    with pytest.raises(ValueError, match='patches'):
        vit(audio, masks[:, :-1])


def test_sincos_table_against_formula():
    """Channel c < D/2 encodes the time index, c >= D/2 the frequency index, each as
    [sin(pos * w_i), cos(pos * w_i)] with w_i = 10000^(-i / (D/4))."""
    dim, grid = 16, (3, 5)
    table = sincos_2d_position_table(grid, dim)[0]
    quarter = dim // 4
    for t in range(grid[0]):
        for f in range(grid[1]):
            row = table[t * grid[1] + f]
            for i in range(quarter):
                w = 10000.0 ** (-i / quarter)
                assert row[i].item() == pytest.approx(math.sin(t * w), abs=1e-6)
                assert row[quarter + i].item() == pytest.approx(math.cos(t * w), abs=1e-6)
                assert row[2 * quarter + i].item() == pytest.approx(math.sin(f * w), abs=1e-6)
                assert row[3 * quarter + i].item() == pytest.approx(math.cos(f * w), abs=1e-6)


def test_vit_token_order_is_time_major():
    """Token k of the ViT is patch (k // Fg, k % Fg): a patch-local impulse moves
    only that token (positions aside)."""
    vit = MODELS.build(dict(type='SpectrogramViT', arch=dict(embed_dims=8, depth=1,
                                                              num_heads=2),
                            input_size=(48, 32)))
    base = torch.zeros(1, 48, 32)
    bumped = base.clone()
    bumped[0, 16 + 3, 16 + 5] = 1.0  # patch (time 1, freq 1) of a 3 x 2 grid
    diff = (vit.tokenize(bumped) - vit.tokenize(base)).abs().sum(-1)[0]
    assert diff.nonzero().flatten().tolist() == [1 * 2 + 1]


@pytest.mark.parametrize('mode', ['random', 'time', 'frequency', 'time_frequency'])
def test_mask_modes(mode):
    gen = TRANSFORMS.build(dict(type='AudioMaskGenerator', mask_ratio=0.5, mode=mode,
                                freq_ratio=0.25))
    np.random.seed(0)
    masks = [gen(dict(audio_feature=np.zeros((1, 800, 128))))['audio_mask'] for _ in range(5)]
    expected = {'random': 200, 'time': 25 * 8, 'frequency': 50 * 4,
                'time_frequency': 25 * 8 + 2 * 50 - 25 * 2}[mode]
    for m in masks:
        assert m.shape == (50, 8) and m.sum() == expected
        cols, rows = m.all(axis=1), m.all(axis=0)
        if mode == 'time':
            assert cols.sum() == 25 and m[~cols].sum() == 0
        if mode == 'frequency':
            assert rows.sum() == 4 and m[:, ~rows].sum() == 0
        if mode == 'time_frequency':
            assert cols.sum() == 25 and rows.sum() == 2
    assert not all((m == masks[0]).all() for m in masks[1:])  # random draws


def test_mask_bad_input():
    with pytest.raises(ValueError, match='mode'):
        TRANSFORMS.build(dict(type='AudioMaskGenerator', mode='diagonal'))
    with pytest.raises(KeyError, match='audio_feature'):
        TRANSFORMS.build(dict(type='AudioMaskGenerator'))(dict())
    with pytest.raises(ValueError, match='whole'):
        TRANSFORMS.build(dict(type='AudioMaskGenerator'))(
            dict(audio_feature=np.zeros((1, 10, 128))))


@pytest.mark.parametrize('norm_pix', [False, True])
def test_spectrogram_head_target_against_loops(norm_pix):
    head = MODELS.build(dict(type='SpectrogramReconstructionHead', patch_size=4,
                             norm_pix=norm_pix))
    g = torch.Generator().manual_seed(0)
    audio = torch.randn(2, 10, 8, generator=g) * 3 + 1  # 10 rows: 2 whole patches in time
    mask = torch.zeros(2, 2, 2, dtype=torch.bool)
    mask[0, 0, 1] = mask[0, 1, 0] = mask[1, 1, 1] = mask[1, 0, 0] = True
    target = head.get_target(audio, mask)
    assert target.shape == (2, 2, 16)
    for b in range(2):
        k = 0
        for t in range(2):
            for f in range(2):
                if not mask[b, t, f]:
                    continue
                patch = audio[b, 4 * t:4 * t + 4, 4 * f:4 * f + 4].reshape(-1)  # (dy, dx)
                if norm_pix:
                    patch = (patch - patch.mean()) / (patch.var(unbiased=True).sqrt() + 1e-6)
                torch.testing.assert_close(target[b, k], patch)
                k += 1
    loss = head.loss(target + 0.5, audio, mask)['loss_rec']
    assert loss.item() == pytest.approx(0.25, rel=1e-5)
    rec = head.reconstruct_spectrogram(head.get_target(audio, mask), audio, mask)
    torch.testing.assert_close(rec, audio[:, :8], atol=1e-5, rtol=1e-5)


def test_mask_is_keyed_per_sample_with_a_seed():
    """With a seed the mask depends only on (seed, index): repeatable, and
    different between samples (the rule of the video mask generators)."""
    gen = TRANSFORMS.build(dict(type='AudioMaskGenerator', mask_ratio=0.5, seed=3))
    feat = np.zeros((1, 256, 128))
    a = gen(dict(audio_feature=feat, sample_idx=5))['audio_mask']
    np.random.seed(123)  # the global generator must not matter
    b = gen(dict(audio_feature=feat, sample_idx=5))['audio_mask']
    c = gen(dict(audio_feature=feat, sample_idx=6))['audio_mask']
    assert (a == b).all() and not (a == c).all()
