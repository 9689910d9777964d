"""Tiny MAViL builders and inputs shared by the MAViL tests (imported, not a test)."""
import copy

import torch

import mmav_mask  # noqa: F401
from mmaction.registry import MODELS

PREPROC = dict(type='AVDataPreprocessor', mean=[123.675, 116.28, 103.53],
               std=[58.395, 57.12, 57.375])


def tiny_cfg(mode='vanilla', num_bottleneck_tokens=4, img_size=64, audio_rows=256, **kwargs):
    """A 96-d MAViL: depth-2 ViTs, 2 fusion layers, 1-block 64-d decoders."""
    cfg = dict(
        type='MAViL', data_preprocessor=PREPROC,
        backbone=dict(
            type='MAViLEncoder',
            video=dict(type='MaskedVideoViT', img_size=img_size, num_frames=8, patch_size=16,
                       tubelet_size=2, arch=dict(embed_dims=96, depth=2, num_heads=3)),
            audio=dict(type='SpectrogramViT', arch='tiny', input_size=(audio_rows, 128)),
            fusion=dict(type='MAViLFusionEncoder', mode=mode, num_layers=2,
                        num_bottleneck_tokens=num_bottleneck_tokens)),
        neck=dict(type='AVMAEDecoder', fusion='separate',
                  decoder=dict(type='VideoMAEDecoder', embed_dims=64, depth=1, num_heads=4)))
    cfg.update(kwargs)
    return cfg


def build(cfg):
    return MODELS.build(copy.deepcopy(cfg))


def random_masks(batch, grid, ratio, generator):
    """(B, *grid) bool, exactly int(ratio * N) True per sample."""
    n = 1
    for g in grid:
        n *= g
    out = torch.zeros(batch, n, dtype=torch.bool)
    for b in range(batch):
        out[b, torch.randperm(n, generator=generator)[:int(ratio * n)]] = True
    return out.view(batch, *grid)


def disjoint_masks(batch, grid, ratio, generator):
    """Two masks whose VISIBLE sets are disjoint (the paper's second view)."""
    n = 1
    for g in grid:
        n *= g
    keep = n - int(ratio * n)
    first = torch.ones(batch, n, dtype=torch.bool)
    second = torch.ones(batch, n, dtype=torch.bool)
    for b in range(batch):
        perm = torch.randperm(n, generator=generator)
        first[b, perm[:keep]] = False
        second[b, perm[keep:2 * keep]] = False
    return first.view(batch, *grid), second.view(batch, *grid)


def make_inputs(batch=3, img_size=64, audio_rows=256, ratio=0.8, seed=0, views=1):
    """Preprocessed-style inputs: imgs (N, V, 3, 8, S, S), audio (N, V, L, 128), masks."""
    g = torch.Generator().manual_seed(seed)
    vgrid = (4, img_size // 16, img_size // 16)
    agrid = (audio_rows // 16, 8)
    mask, mask2 = disjoint_masks(batch, vgrid, ratio, g)
    amask, amask2 = disjoint_masks(batch, agrid, ratio, g)
    return dict(imgs=torch.randn(batch, views, 3, 8, img_size, img_size, generator=g),
                audio=torch.randn(batch, views, audio_rows, 128, generator=g),
                audio_valid=torch.ones(batch, dtype=torch.bool),
                mask=mask, audio_mask=amask, mask_view2=mask2, audio_mask_view2=amask2)
