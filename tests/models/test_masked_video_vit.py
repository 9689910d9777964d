"""MaskedVideoViT: key names, visible-token encoding, sizes, checkpointing, positions."""
import numpy as np
import pytest
import torch
from mmaction.registry import MODELS

from mmav_mask.models.backbones.masked_video_vit import ARCH_SETTINGS, MaskedVideoViT


def tiny(**kw):
    cfg = dict(type='MaskedVideoViT', img_size=32, num_frames=4,
               arch=dict(embed_dims=32, depth=2, num_heads=4))
    cfg.update(kw)
    return MODELS.build(cfg)


def tube_mask(batch, grid, num_masked, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(batch):
        s = torch.zeros(grid[1] * grid[2], dtype=torch.bool)
        s[torch.randperm(grid[1] * grid[2], generator=g)[:num_masked]] = True
        out.append(s.view(1, grid[1], grid[2]).expand(grid[0], -1, -1))
    return torch.stack(out)


def official_sinusoid(n_position, d_hid):
    """VideoMAE's numpy table, rounded to float32 as the official code stores it."""
    pos = np.arange(n_position)[:, None]
    j = np.arange(d_hid)[None]
    table = pos / np.power(10000, 2 * (j // 2) / d_hid)
    table[:, 0::2] = np.sin(table[:, 0::2])
    table[:, 1::2] = np.cos(table[:, 1::2])
    return torch.tensor(table, dtype=torch.float32)[None]


def test_state_dict_uses_official_encoder_names():
    model = tiny(init_values=0.1)
    keys = set(model.state_dict())
    assert 'pos_embed' not in keys  # fixed table, not stored (as in VideoMAE files)
    assert {'patch_embed.proj.weight', 'patch_embed.proj.bias', 'blocks.0.norm1.weight',
            'blocks.0.attn.qkv.weight', 'blocks.0.attn.q_bias', 'blocks.0.attn.v_bias',
            'blocks.0.attn.proj.weight', 'blocks.1.mlp.fc1.weight', 'blocks.1.mlp.fc2.bias',
            'blocks.1.gamma_1', 'norm.weight', 'norm.bias'} <= keys
    assert 'blocks.0.attn.qkv.bias' not in keys
    assert tuple(model.patch_embed.proj.weight.shape) == (32, 3, 2, 16, 16)
    assert 'blocks.0.gamma_1' not in tiny().state_dict()  # init_values 0: no layer scale


def test_attributes_and_arch_settings():
    model = tiny()
    assert (model.embed_dims, model.patch_size, model.tubelet_size) == (32, 16, 2)
    assert model.grid_size == (2, 2, 2)
    assert ARCH_SETTINGS['base'] == dict(embed_dims=768, depth=12, num_heads=12)
    assert ARCH_SETTINGS['small'] == dict(embed_dims=384, depth=12, num_heads=6)
    assert ARCH_SETTINGS['large'] == dict(embed_dims=1024, depth=24, num_heads=16)
    small = MaskedVideoViT(arch='small', depth=1, img_size=32, num_frames=2)
    assert small.embed_dims == 384 and small.num_heads == 6 and len(small.blocks) == 1
    assert small.norm.eps == 1e-6
    with pytest.raises(KeyError):
        MaskedVideoViT(arch='giant')


def test_position_table_matches_official_formula():
    # VideoMAE-B size (1568 x 768): positions up to 1567 make rounding visible.
    model = MaskedVideoViT(arch=dict(embed_dims=768, depth=0, num_heads=12))
    torch.testing.assert_close(model.pos_embed, official_sinusoid(1568, 768),
                               rtol=0, atol=1e-6)


def test_encodes_only_visible_tokens_in_raster_order():
    torch.manual_seed(0)
    model = tiny(img_size=48).eval()  # grid (2, 3, 3)
    imgs = torch.randn(2, 3, 4, 48, 48)
    mask = tube_mask(2, (2, 3, 3), 6)
    out = model(imgs, mask)
    assert out.shape == (2, 2 * 3, 32)
    # Reference: boolean indexing of all embedded tokens, then blocks and norm.
    with torch.no_grad():
        x = model.patch_embed(imgs) + model.pos_embed
        x = x[~mask.flatten(1)].reshape(2, -1, 32)
        for blk in model.blocks:
            x = blk(x)
        torch.testing.assert_close(out, model.norm(x))
    full = model(imgs)
    assert full.shape == (2, 18, 32)


def test_unequal_visible_counts_raise():
    model = tiny()
    mask = torch.zeros(2, 2, 2, 2, dtype=torch.bool)
    mask[0, 0, 0, 0] = True
    with pytest.raises(ValueError, match='same number'):
        model(torch.randn(2, 3, 4, 32, 32), mask)
    with pytest.raises(ValueError, match='positions'):
        model(torch.randn(2, 3, 4, 32, 32), torch.zeros(2, 3, 2, 2, dtype=torch.bool))


def test_activation_checkpointing_matches_plain():
    torch.manual_seed(0)
    plain, ckpt = tiny(), tiny(with_cp=True)
    ckpt.load_state_dict(plain.state_dict())
    imgs = torch.randn(2, 3, 4, 32, 32)
    mask = tube_mask(2, (2, 2, 2), 2)
    plain.train(), ckpt.train()
    plain(imgs, mask).square().sum().backward()
    ckpt(imgs, mask).square().sum().backward()
    for (n, a), (_, b) in zip(plain.named_parameters(), ckpt.named_parameters()):
        torch.testing.assert_close(a.grad, b.grad, msg=n)


def test_drop_path_only_in_training():
    torch.manual_seed(0)
    model = tiny(drop_path_rate=0.5)
    imgs = torch.randn(4, 3, 4, 32, 32)
    model.eval()
    torch.testing.assert_close(model(imgs), model(imgs))
    model.train()
    assert not torch.allclose(model(imgs), model(imgs))


def test_xavier_init_and_pretrained_encoder(tmp_path):
    model = tiny()
    assert torch.count_nonzero(model.blocks[0].attn.proj.bias) == 0
    w = model.blocks[0].mlp.fc1.weight
    bound = (6 / (w.shape[0] + w.shape[1])) ** 0.5
    assert w.abs().max() <= bound and w.abs().max() > 0.5 * bound
    # An official pretraining file: only the encoder.* part lands in the backbone.
    source = {'encoder.' + k: torch.randn_like(v) for k, v in model.state_dict().items()}
    source['decoder.norm.weight'] = torch.ones(4)
    source['mask_token'] = torch.zeros(1, 1, 4)
    path = tmp_path / 'official.pth'
    torch.save({'model': source}, path)
    loaded = tiny(pretrained=str(path))
    loaded.init_weights()
    for k, v in loaded.state_dict().items():
        assert torch.equal(v, source['encoder.' + k]), k


def _to_mmaction_keys(state):
    """Our names -> MMAction2 VisionTransformer names (its published layout)."""
    out = {}
    for k, v in state.items():
        k = k.replace('patch_embed.proj.', 'patch_embed.projection.')
        k = k.replace('mlp.fc1.', 'mlp.layers.0.0.').replace('mlp.fc2.', 'mlp.layers.1.')
        out[k] = v
    return out


def test_mean_pooling_readout_matches_mmaction_vision_transformer():
    from mmaction.models.backbones.vit_mae import VisionTransformer
    torch.manual_seed(0)
    model = tiny(use_mean_pooling=True).eval()
    keys = set(model.state_dict())
    # MMAction2's read-out layout: no token-wise norm, fc_norm after pooling.
    assert {'fc_norm.weight', 'fc_norm.bias'} <= keys and 'norm.weight' not in keys
    with torch.no_grad():  # non-trivial fc_norm
        model.fc_norm.weight.uniform_(0.5, 1.5)
        model.fc_norm.bias.uniform_(-0.5, 0.5)
    vit = VisionTransformer(img_size=32, patch_size=16, embed_dims=32, depth=2, num_heads=4,
                            num_frames=4, use_mean_pooling=True, init_cfg=None).eval()
    missing, unexpected = vit.load_state_dict(_to_mmaction_keys(model.state_dict()),
                                              strict=False)
    assert missing == ['pos_embed'] and unexpected == []  # same fixed sinusoid table
    x = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        out = model(x)
        assert out.shape == (2, 32)
        torch.testing.assert_close(out, vit(x), atol=2e-5, rtol=1e-4)
        # the default (pretraining) read-out still returns normed tokens
        assert tiny()(x).shape == (2, 8, 32)
