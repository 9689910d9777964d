"""VideoMAEDecoder: official key names, output size, last-num_masked read-out."""
import torch
from mmaction.registry import MODELS


def build(**kw):
    cfg = dict(type='VideoMAEDecoder', embed_dims=24, depth=2, num_heads=2)
    cfg.update(kw)
    return MODELS.build(cfg)


def test_defaults_are_videomae_vit_b():
    dec = MODELS.build(dict(type='VideoMAEDecoder'))
    assert dec.embed_dims == 384 and len(dec.blocks) == 4
    assert dec.blocks[0].attn.num_heads == 6
    assert dec.head.out_features == 3 * 2 * 16 * 16 == 1536
    assert dec.norm.eps == 1e-6


def test_key_names_match_official_decoder():
    keys = set(build().state_dict())
    assert {'blocks.0.attn.qkv.weight', 'blocks.0.attn.q_bias', 'blocks.1.attn.v_bias',
            'blocks.1.mlp.fc2.weight', 'norm.weight', 'head.weight', 'head.bias'} <= keys
    assert not any('pos_embed' in k for k in keys)


def test_predicts_only_the_last_num_masked_tokens():
    torch.manual_seed(0)
    dec = build(patch_size=4, tubelet_size=1, in_channels=2).eval()
    assert dec.out_channels == 2 * 1 * 4 * 4
    x = torch.randn(3, 10, 24)
    out = dec(x, 4)
    assert out.shape == (3, 4, 32)
    with torch.no_grad():
        h = x
        for blk in dec.blocks:
            h = blk(h)
        torch.testing.assert_close(out, dec.head(dec.norm(h))[:, -4:])
    assert dec(x, 0).shape == (3, 10, 32)  # 0 = every token (official behaviour)
    # The visible part influences the prediction through attention.
    x2 = x.clone()
    x2[:, 0] += 1
    assert not torch.allclose(dec(x2, 4), out)


def test_activation_checkpointing_same_result():
    torch.manual_seed(0)
    a, b = build(), build(with_cp=True)
    b.load_state_dict(a.state_dict())
    x = torch.randn(2, 6, 24, requires_grad=True)
    torch.testing.assert_close(a.train()(x, 3), b.train()(x, 3))
