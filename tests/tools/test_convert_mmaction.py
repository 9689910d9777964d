"""tools/convert/to_mmaction_vit.py and mmav_mask.models.checkpoint_layouts: our
pretraining checkpoints and official VideoMAE checkpoints load into MMAction2's
VisionTransformer with no missing key and give our MaskedVideoViT's outputs."""
import importlib.util
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmaction.models.backbones.vit_mae import VisionTransformer
from mmengine.logging import HistoryBuffer

from mmav_mask.models.backbones import MaskedVideoViT
from mmav_mask.models.checkpoint_layouts import (check_mmaction_loadable, convert_checkpoint,
                                                 detect_layout, extract_encoder_state,
                                                 videomae_to_mmaction_vit)
from mmav_mask.utils import UntrustedCheckpointError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DIMS = dict(img_size=32, num_frames=4, patch_size=16, tubelet_size=2, embed_dims=24,
            depth=2, num_heads=2)


def _tool():
    spec = importlib.util.spec_from_file_location(
        'to_mmaction_vit', osp.join(REPO, 'tools', 'convert', 'to_mmaction_vit.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ours(init_values: float = 0.0) -> MaskedVideoViT:
    """Tiny encoder with every parameter random, so a swapped tensor of the
    same shape (q_bias/v_bias, norm1/norm2, fc_norm/norm) changes the output."""
    torch.manual_seed(0)
    model = MaskedVideoViT(init_values=init_values, **DIMS).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return model


def _mmaction(mean_pooling: bool, init_values: float = 0.0) -> VisionTransformer:
    return VisionTransformer(
        img_size=32, patch_size=16, embed_dims=24, depth=2, num_heads=2, num_frames=4,
        tubelet_size=2, use_mean_pooling=mean_pooling, return_feat_map=not mean_pooling,
        init_values=init_values, init_cfg=None).eval()


def _load_backbone(model: VisionTransformer, state: dict) -> None:
    backbone = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    model.load_state_dict(backbone, strict=True)  # raises on any missing/unexpected key


def _pretraining_checkpoint(ours: MaskedVideoViT) -> dict:
    """Layout of an AVMaskEnhancer runner checkpoint: encoder + the rest + meta."""
    state = {'backbone.' + k: v.clone() for k, v in ours.state_dict().items()}
    state.update({'decoder.blocks.0.norm1.weight': torch.ones(8),
                  'decoder.head.weight': torch.zeros(1536, 8),
                  'fusion.encoder_to_decoder.weight': torch.zeros(8, 24),
                  'audio_backbone.proj.weight': torch.zeros(24, 8),
                  'mask_token': torch.zeros(1, 1, 8)})
    # the non-tensor objects mmengine's runner pickles (message hub)
    loss = HistoryBuffer()
    loss.update(0.5)
    return dict(state_dict=state, meta=dict(epoch=3, cfg='model = dict()'),
                message_hub=dict(log_scalars={'train/loss': loss},
                                 runtime_info={'eta': np.float64(1.0)}, resumed_keys={}))


def _official_checkpoint(ours: MaskedVideoViT) -> dict:
    state = {'encoder.' + k: v.clone() for k, v in ours.state_dict().items()}
    state.update({'decoder.norm.weight': torch.ones(8), 'decoder.head.weight':
                  torch.zeros(1536, 8), 'encoder_to_decoder.weight': torch.zeros(8, 24),
                  'mask_token': torch.zeros(1, 1, 8)})
    return dict(model=state)


@torch.no_grad()
def _assert_same_outputs(ours: MaskedVideoViT, state: dict, init_values: float = 0.0) -> None:
    x = torch.randn(2, 3, 4, 32, 32)
    tokens = ours(x, None)                                              # (B, N, D) after norm
    # use_mean_pooling=False: every token after the final norm, as a feature map.
    # The converted fc_norm is the pretrained final norm: put it back as token norm.
    mm_tokens_model = _mmaction(False, init_values)
    _load_backbone(mm_tokens_model, {k.replace('backbone.fc_norm.', 'backbone.norm.'): v
                                     for k, v in state.items()})
    fmap = mm_tokens_model(x)                                           # (B, D, T', H', W')
    torch.testing.assert_close(fmap.flatten(2).transpose(1, 2), tokens, atol=2e-5, rtol=1e-4)
    # use_mean_pooling=True (fine-tuning layout): fc_norm(mean(pre-norm tokens)),
    # fc_norm initialised with the pretrained final norm.
    mm_pool_model = _mmaction(True, init_values)
    _load_backbone(mm_pool_model, state)
    norm, ours.norm = ours.norm, torch.nn.Identity()
    try:
        expected = F.layer_norm(ours(x, None).mean(1), (24, ), norm.weight, norm.bias, norm.eps)
    finally:
        ours.norm = norm
    torch.testing.assert_close(mm_pool_model(x), expected, atol=2e-5, rtol=1e-4)


def test_pretraining_checkpoint_via_tool(tmp_path, capsys):
    ours = _ours()
    src, dst = str(tmp_path / 'epoch_3.pth'), str(tmp_path / 'mm.pth')
    torch.save(_pretraining_checkpoint(ours), src)  # as mmengine's own writer pickles it
    assert _tool().main([src, dst, '--num-frames', '4', '--img-size', '32']) == 0
    out = capsys.readouterr().out
    assert 'source layout: mmav' in out and 'missing backbone keys 0' in out
    converted = torch.load(dst, weights_only=True)  # tensors only
    state = converted['state_dict']
    assert all(k.startswith('backbone.') for k in state)
    assert 'backbone.fc_norm.weight' in state and 'backbone.norm.weight' not in state
    assert 'backbone.blocks.1.mlp.layers.0.0.weight' in state
    assert 'backbone.patch_embed.projection.weight' in state
    # MMAction2 builds the same pos_embed itself: the written table matches it.
    torch.testing.assert_close(state['backbone.pos_embed'], _mmaction(True).pos_embed)
    assert check_mmaction_loadable(state, num_frames=4, img_size=32) == ([], [])
    _assert_same_outputs(ours, state)


def test_official_checkpoint_via_tool(tmp_path, capsys):
    ours = _ours()
    src, dst = str(tmp_path / 'videomae.pth'), str(tmp_path / 'mm.pth')
    torch.save(_official_checkpoint(ours), src)
    assert _tool().main([src, dst, '--num-frames', '4', '--img-size', '32']) == 0
    out = capsys.readouterr().out
    assert 'source layout: videomae' in out
    assert "dropped groups: ['decoder', 'fusion', 'mask_token']" in out
    state = torch.load(dst, weights_only=True)['state_dict']
    _assert_same_outputs(ours, state)


def test_layer_scale_and_no_mean_pooling():
    ours = _ours(init_values=0.1)
    converted, report = convert_checkpoint(_official_checkpoint(ours), num_frames=4,
                                           img_size=32, mean_pooling=False)
    state = converted['state_dict']
    assert 'backbone.blocks.0.gamma_1' in state and 'backbone.norm.weight' in state
    assert 'backbone.fc_norm.weight' not in state
    assert check_mmaction_loadable(state, num_frames=4, img_size=32,
                                   mean_pooling=False) == ([], [])
    model = _mmaction(False, init_values=0.1)
    _load_backbone(model, state)
    x = torch.randn(1, 3, 4, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x).flatten(2).transpose(1, 2), ours(x, None),
                                   atol=2e-5, rtol=1e-4)
    assert report.added == ['backbone.pos_embed']
    # mmaction -> videomae -> mmaction is the identity on the encoder tensors.
    encoder, _, _, layout = extract_encoder_state(state)
    assert layout == 'mmaction_vit' and 'pos_embed' not in encoder
    again = videomae_to_mmaction_vit(encoder, num_frames=4, img_size=32, mean_pooling=False)
    assert again.keys() == state.keys()
    assert all(torch.equal(again[k], state[k]) for k in state)


def test_official_finetuned_keeps_head_and_fc_norm():
    ours = _ours()
    state = {k: v for k, v in ours.state_dict().items() if not k.startswith('norm.')}
    state.update({'fc_norm.weight': torch.full((24, ), 2.0), 'fc_norm.bias': torch.zeros(24),
                  'head.weight': torch.randn(7, 24), 'head.bias': torch.randn(7)})
    assert detect_layout(state) == 'videomae_finetuned'
    converted, _ = convert_checkpoint({'module': state}, num_frames=4, img_size=32)
    out = converted['state_dict']
    assert torch.equal(out['backbone.fc_norm.weight'], state['fc_norm.weight'])
    assert torch.equal(out['cls_head.fc_cls.weight'], state['head.weight'])
    dropped, _ = convert_checkpoint({'module': state}, num_frames=4, img_size=32,
                                    keep_head=False)
    assert not any(k.startswith('cls_head') for k in dropped['state_dict'])


class _Payload:
    """Creates ``marker`` when unpickled (stands in for arbitrary code)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


@pytest.mark.parametrize('audio', [False, True])
def test_refuses_code_in_pickle(tmp_path, audio):
    ckpt = _pretraining_checkpoint(_ours())
    marker = str(tmp_path / 'PWNED')
    ckpt['meta']['evil'] = _Payload(marker)
    src = str(tmp_path / 'foreign.pth')
    torch.save(ckpt, src)
    with pytest.raises(UntrustedCheckpointError, match='foreign.pth'):
        _tool().main([src, str(tmp_path / 'out.pth')] + (['--audio'] if audio else []))
    assert not osp.exists(marker)
    assert not osp.exists(tmp_path / 'out.pth')


def test_refuses_non_vit():
    with pytest.raises(ValueError, match='no ViT encoder'):
        convert_checkpoint({'state_dict': {'backbone.conv1.weight': torch.zeros(1)}})


def test_incomplete_encoder_is_reported(tmp_path, capsys):
    """A checkpoint missing a block's tensor must not pass the tool's check."""
    ours = _ours()
    ckpt = _official_checkpoint(ours)
    del ckpt['model']['encoder.blocks.1.attn.v_bias']
    src = str(tmp_path / 'broken.pth')
    torch.save(ckpt, src)
    assert _tool().main([src, str(tmp_path / 'out.pth'), '--num-frames', '4',
                         '--img-size', '32']) == 1
    assert 'missing backbone keys 1' in capsys.readouterr().out
    assert not osp.exists(tmp_path / 'out.pth')
