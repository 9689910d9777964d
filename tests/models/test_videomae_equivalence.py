"""Our video-only AVMaskEnhancer against an independent re-derivation of the
official VideoMAE pretraining model (MCG-NJU/VideoMAE modeling_pretrain.py and
engine_for_pretraining.py), written here from the published description:

* official key layout: encoder.patch_embed.proj, encoder.blocks.N.{norm1, attn.qkv.weight,
  attn.q_bias, attn.v_bias, attn.proj, norm2, mlp.fc1, mlp.fc2}, encoder.norm, decoder.blocks.N.*,
  decoder.norm, decoder.head, encoder_to_decoder.weight (no bias), mask_token;
* attention computed explicitly (q * d^-0.5) @ k^T, softmax, @ v, with bias cat(q_bias, 0, v_bias);
* numpy sinusoid table (sin on even, cos on odd channels), not stored in the state dict;
* decoder input [visible + pos_vis, mask_token + pos_mask], prediction = last num_masked outputs;
* loss: MSE against the per-tubelet, per-channel normalised target over (p0 p1 p2) pixels,
  unbiased variance, eps outside the square root, flattened as (p0 p1 p2) c.
"""
import math

import numpy as np
import pytest
import torch
from mmaction.registry import MODELS
from torch import nn

from mmav_mask.models.checkpoint_layouts import load_pretrained, to_mmav, unwrap_state_dict

IMNET_MEAN = (0.485, 0.456, 0.406)
IMNET_STD = (0.229, 0.224, 0.225)

ENC_DIM, ENC_DEPTH, ENC_HEADS = 48, 2, 3
DEC_DIM, DEC_DEPTH, DEC_HEADS = 24, 2, 2
IMG, FRAMES, PATCH, TUBELET = 48, 4, 16, 2
GRID = (FRAMES // TUBELET, IMG // PATCH, IMG // PATCH)  # (2, 3, 3)
NUM_PATCHES = GRID[0] * GRID[1] * GRID[2]


# ----------------------------------------------------------------- reference
def ref_sinusoid(n_position, d_hid):
    table = np.array([[pos / np.power(10000, 2 * (j // 2) / d_hid) for j in range(d_hid)]
                      for pos in range(n_position)])
    table[:, 0::2] = np.sin(table[:, 0::2])
    table[:, 1::2] = np.cos(table[:, 1::2])
    return torch.tensor(table, dtype=torch.float32)[None]  # official table is float32


class RefAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(dim))
        self.v_bias = nn.Parameter(torch.zeros(dim))
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        bias = torch.cat([self.q_bias, torch.zeros_like(self.v_bias), self.v_bias])
        qkv = (x @ self.qkv.weight.t() + bias).reshape(B, N, 3, self.heads, C // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        attn = ((q * (C // self.heads) ** -0.5) @ k.transpose(-2, -1)).softmax(-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(B, N, C))


class RefMlp(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.fc1 = nn.Linear(dim, 4 * dim)
        self.fc2 = nn.Linear(4 * dim, dim)

    def forward(self, x):
        return self.fc2(nn.functional.gelu(self.fc1(x)))


class RefBlock(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = RefAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = RefMlp(dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class RefPatchEmbed(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Conv3d(3, ENC_DIM, (TUBELET, PATCH, PATCH), (TUBELET, PATCH, PATCH))


class RefEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch_embed = RefPatchEmbed()
        self.blocks = nn.ModuleList([RefBlock(ENC_DIM, ENC_HEADS) for _ in range(ENC_DEPTH)])
        self.norm = nn.LayerNorm(ENC_DIM, eps=1e-6)
        self.pos_embed = ref_sinusoid(NUM_PATCHES, ENC_DIM)  # plain attribute: not saved

    def forward(self, x, mask):
        x = self.patch_embed.proj(x).flatten(2).transpose(1, 2)
        x = x + self.pos_embed.to(x)
        B, _, C = x.shape
        x = x[~mask].reshape(B, -1, C)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)


class RefDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([RefBlock(DEC_DIM, DEC_HEADS) for _ in range(DEC_DEPTH)])
        self.norm = nn.LayerNorm(DEC_DIM, eps=1e-6)
        self.head = nn.Linear(DEC_DIM, 3 * TUBELET * PATCH * PATCH)

    def forward(self, x, return_token_num):
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.norm(x[:, -return_token_num:]))


class RefPretrain(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = RefEncoder()
        self.decoder = RefDecoder()
        self.encoder_to_decoder = nn.Linear(ENC_DIM, DEC_DIM, bias=False)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, DEC_DIM))
        self.pos_embed = ref_sinusoid(NUM_PATCHES, DEC_DIM)

    def forward(self, x, mask):
        x_vis = self.encoder_to_decoder(self.encoder(x, mask))
        B, _, C = x_vis.shape
        pos = self.pos_embed.to(x).expand(B, -1, -1)
        pos_vis = pos[~mask].reshape(B, -1, C)
        pos_mask = pos[mask].reshape(B, -1, C)
        full = torch.cat([x_vis + pos_vis, self.mask_token + pos_mask], dim=1)
        return self.decoder(full, pos_mask.shape[1])


def ref_loss(videos, bool_masked_pos, outputs):
    """Official engine: un-normalise, normalise each tubelet per channel, masked MSE."""
    mean = torch.tensor(IMNET_MEAN, dtype=videos.dtype)[None, :, None, None, None]
    std = torch.tensor(IMNET_STD, dtype=videos.dtype)[None, :, None, None, None]
    unnorm = videos * std + mean
    B, C, T, H, W = unnorm.shape
    rows = []
    for b in range(B):
        tokens = []
        for t in range(T // TUBELET):
            for h in range(H // PATCH):
                for w in range(W // PATCH):
                    cube = unnorm[b, :, t * TUBELET:(t + 1) * TUBELET,
                                  h * PATCH:(h + 1) * PATCH, w * PATCH:(w + 1) * PATCH]
                    pix = cube.permute(1, 2, 3, 0).reshape(-1, C)  # (p0 p1 p2) c
                    pix = (pix - pix.mean(0)) / (pix.var(0, unbiased=True).sqrt() + 1e-6)
                    tokens.append(pix.reshape(-1))
        rows.append(torch.stack(tokens))
    patches = torch.stack(rows)
    labels = patches[bool_masked_pos].reshape(B, -1, patches.shape[-1])
    return nn.functional.mse_loss(outputs, labels)


# -------------------------------------------------------------------- tests
def random_official_state_dict(seed=0):
    torch.manual_seed(seed)
    ref = RefPretrain()
    sd = {k: torch.randn_like(v) * 0.2 for k, v in ref.state_dict().items()}
    for k in sd:  # keep LayerNorm scales near 1 so signals stay well conditioned
        if k.endswith(('norm1.weight', 'norm2.weight', 'norm.weight')):
            sd[k] = 1 + sd[k] * 0.5
    return sd


def build_ours(pretrained=None):
    return MODELS.build(dict(
        type='AVMaskEnhancer',
        backbone=dict(type='MaskedVideoViT', img_size=IMG, num_frames=FRAMES,
                      arch=dict(embed_dims=ENC_DIM, depth=ENC_DEPTH, num_heads=ENC_HEADS)),
        decoder=dict(type='VideoMAEDecoder', embed_dims=DEC_DIM, depth=DEC_DEPTH,
                     num_heads=DEC_HEADS),
        head=dict(type='PixelReconstructionHead', norm_pix=True),
        fusion=dict(type='NoFusion'), pretrained=pretrained))


def test_official_state_dict_has_documented_layout():
    keys = set(random_official_state_dict())
    assert 'mask_token' in keys and 'encoder_to_decoder.weight' in keys
    assert 'encoder_to_decoder.bias' not in keys
    assert not any('pos_embed' in k for k in keys)
    assert {'encoder.patch_embed.proj.weight', 'encoder.blocks.0.attn.q_bias',
            'encoder.blocks.1.attn.v_bias', 'encoder.blocks.0.attn.qkv.weight',
            'decoder.head.weight', 'decoder.norm.bias'} <= keys


def test_key_mapping_is_complete_and_exact():
    sd = random_official_state_dict()
    converted, layout = to_mmav(unwrap_state_dict({'model': sd}))
    assert layout == 'videomae'
    ours = build_ours()
    assert set(converted) == set(ours.state_dict())
    assert torch.equal(converted['fusion.encoder_to_decoder.weight'],
                       sd['encoder_to_decoder.weight'])
    assert torch.equal(converted['backbone.blocks.1.attn.q_bias'], sd['encoder.blocks.1.attn.q_bias'])


@pytest.mark.parametrize('per_sample_masks', [False, True])
def test_decoder_output_and_loss_match_official(tmp_path, per_sample_masks):
    sd = random_official_state_dict()
    ref = RefPretrain().double()
    ref.load_state_dict({k: v.double() for k, v in sd.items()}, strict=True)
    path = tmp_path / 'videomae_official.pth'
    torch.save({'model': sd}, path)
    ours = build_ours(pretrained=str(path))
    ours.init_weights()  # loads the official file through checkpoint_layouts.load_pretrained
    ours = ours.double().eval()
    ref.eval()

    torch.manual_seed(1)
    B = 3
    imgs = torch.randn(B, 3, FRAMES, IMG, IMG, dtype=torch.float64)
    num_masked_per_slice = 5
    masks = []
    for b in range(B):
        if per_sample_masks:  # arbitrary masks with equal counts, not tubes
            m = torch.zeros(NUM_PATCHES, dtype=torch.bool)
            m[torch.randperm(NUM_PATCHES)[:num_masked_per_slice * GRID[0]]] = True
            masks.append(m.view(GRID))
        else:  # tube mask: one slice mask repeated over time
            s = torch.zeros(GRID[1] * GRID[2], dtype=torch.bool)
            s[torch.randperm(GRID[1] * GRID[2])[:num_masked_per_slice]] = True
            masks.append(s.view(1, *GRID[1:]).expand(GRID[0], -1, -1))
    mask = torch.stack(masks)
    flat = mask.flatten(1)

    with torch.no_grad():
        ref_out = ref(imgs, flat)
        our_out = ours(dict(imgs=imgs[:, None], mask=mask), mode='tensor')
        our_loss = ours(dict(imgs=imgs, mask=mask), mode='loss')['loss_rec']
    assert our_out.shape == ref_out.shape == (B, flat.sum() // B, 1536)
    # float64 everywhere except the float32 position tables (float32 in VideoMAE too);
    # test_masked_video_vit checks those tables against the official formula.
    torch.testing.assert_close(our_out, ref_out, rtol=1e-6, atol=1e-6)
    expected = ref_loss(imgs, flat, ref_out)
    # The head computes its target in float32 (AMP-safe), hence the tolerance.
    assert math.isclose(our_loss.item(), expected.item(), rel_tol=1e-5)


def test_float32_match_and_converter_roundtrip(tmp_path):
    """Converted file (tools/convert) loads with no missing keys; float32 agrees."""
    import importlib.util
    import os.path as osp
    REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    spec = importlib.util.spec_from_file_location(
        'videomae_to_mmav', osp.join(REPO_ROOT, 'tools', 'convert', 'videomae_to_mmav.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)

    sd = random_official_state_dict(seed=3)
    src, dst = tmp_path / 'official.pth', tmp_path / 'ours.pth'
    torch.save({'model': sd}, src)
    assert tool.main([str(src), str(dst)]) == 0
    ours = build_ours().eval()
    report = load_pretrained(ours, str(dst))
    assert report.missing == [] and report.unexpected == [] and report.mismatched == []

    ref = RefPretrain().eval()
    ref.load_state_dict(sd)
    torch.manual_seed(2)
    imgs = torch.randn(2, 3, FRAMES, IMG, IMG)
    s = torch.zeros(GRID[1] * GRID[2], dtype=torch.bool)
    s[:6] = True
    mask = s.view(1, 1, *GRID[1:]).expand(2, GRID[0], -1, -1)
    with torch.no_grad():
        torch.testing.assert_close(ours(dict(imgs=imgs, mask=mask), mode='tensor'),
                                   ref(imgs, mask.flatten(1)), rtol=1e-4, atol=1e-4)


def test_missing_and_unexpected_keys_are_reported(tmp_path):
    sd = random_official_state_dict()
    sd.pop('mask_token')
    sd['encoder.head.weight'] = torch.zeros(2, ENC_DIM)
    path = tmp_path / 'partial.pth'
    torch.save({'model': sd}, path)
    report = load_pretrained(build_ours(), str(path))
    assert report.missing == ['mask_token']
    assert report.unexpected == ['backbone.head.weight']
