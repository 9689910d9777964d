"""PixelReconstructionHead: VideoMAE target formula, layout, loss, pixel read-out."""
import pytest
import torch
from mmaction.registry import MODELS

MEAN, STD = (123.675, 116.28, 103.53), (58.395, 57.12, 57.375)


def head(**kw):
    cfg = dict(type='PixelReconstructionHead', patch_size=4, tubelet_size=2)
    cfg.update(kw)
    return MODELS.build(cfg)


def make_inputs(seed=0, B=2, T=4, H=8, W=12):
    g = torch.Generator().manual_seed(seed)
    pixels = torch.rand(B, 3, T, H, W, generator=g) * 255
    mean = torch.tensor(MEAN).view(1, 3, 1, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1, 1)
    imgs = (pixels - mean) / std  # what the data preprocessor produces
    grid = (T // 2, H // 4, W // 4)
    mask = torch.zeros(B, *grid, dtype=torch.bool)
    mask[0, :, 0, 1:] = True
    mask[1, :, 1, :2] = True
    return pixels / 255, imgs, mask


def reference_target(pixels01, mask, norm, p=4, t=2):
    """Loops over tubelets; vector index ((dt * p + dy) * p + dx) * C + c."""
    B, C, T, H, W = pixels01.shape
    out = []
    for b in range(B):
        rows = []
        for it in range(T // t):
            for ih in range(H // p):
                for iw in range(W // p):
                    if not mask[b, it, ih, iw]:
                        continue
                    vec = torch.empty(t * p * p * C)
                    for c in range(C):
                        cube = pixels01[b, c, it * t:(it + 1) * t, ih * p:(ih + 1) * p,
                                        iw * p:(iw + 1) * p].double()
                        if norm:
                            n = cube.numel()
                            mu = cube.sum() / n
                            var = ((cube - mu) ** 2).sum() / (n - 1)  # unbiased
                            cube = (cube - mu) / (var.sqrt() + 1e-6)
                        for dt in range(t):
                            for dy in range(p):
                                for dx in range(p):
                                    vec[((dt * p + dy) * p + dx) * C + c] = cube[dt, dy, dx]
                    rows.append(vec)
        out.append(torch.stack(rows))
    return torch.stack(out)


@pytest.mark.parametrize('norm', [True, False])
def test_target_matches_independent_computation(norm):
    pixels01, imgs, mask = make_inputs()
    target = head(norm_pix=norm).get_target(imgs, mask)
    assert target.shape == (2, 4, 2 * 4 * 4 * 3) and target.dtype == torch.float32
    torch.testing.assert_close(target, reference_target(pixels01, mask, norm).float(),
                               rtol=1e-4, atol=1e-4)


def test_patchify_roundtrip_and_unnormalize():
    pixels01, imgs, mask = make_inputs()
    h = head()
    torch.testing.assert_close(h.unnormalize(imgs), pixels01, rtol=1e-5, atol=1e-5)
    patches = h.patchify(pixels01)
    assert patches.shape == (2, 2 * 2 * 3, 32, 3)
    torch.testing.assert_close(h.unpatchify(patches.flatten(2), (2, 2, 3)), pixels01)


def test_loss_is_mse_over_masked_tubelets():
    _, imgs, mask = make_inputs()
    h = head(loss_weight=2.0)
    target = h.get_target(imgs, mask)
    pred = target + 0.5
    loss = h.loss(pred, imgs, mask)
    assert set(loss) == {'loss_rec'}
    torch.testing.assert_close(loss['loss_rec'], torch.tensor(2 * 0.25))
    assert h.loss(target, imgs, mask)['loss_rec'] < 1e-10
    per = h.per_sample_mse(pred, target)
    torch.testing.assert_close(per, torch.full((2,), 0.25))


def test_to_pixels_and_reconstruction_invert_the_target():
    pixels01, imgs, mask = make_inputs()
    for norm in (True, False):
        h = head(norm_pix=norm)
        target = h.get_target(imgs, mask)
        torch.testing.assert_close(h.to_pixels(target, imgs, mask),
                                   h.ground_truth_pixels(imgs, mask), rtol=1e-4, atol=1e-4)
        video = h.reconstruct_video(target, imgs, mask)
        torch.testing.assert_close(video, pixels01, rtol=1e-4, atol=1e-4)
    # A wrong prediction changes only the masked tubelets of the reconstruction.
    h = head()
    video = h.reconstruct_video(torch.zeros_like(h.get_target(imgs, mask)), imgs, mask)
    full_mask = mask.repeat_interleave(2, 1).repeat_interleave(4, 2).repeat_interleave(4, 3)
    full_mask = full_mask[:, None].expand_as(video)
    torch.testing.assert_close(video[~full_mask], pixels01[~full_mask], rtol=1e-5, atol=1e-5)
    assert not torch.allclose(video[full_mask], pixels01[full_mask], atol=1e-2)


def test_bad_statistics_rejected():
    with pytest.raises(ValueError):
        head(mean=(0.0, 0.0), std=(1.0, 1.0))
