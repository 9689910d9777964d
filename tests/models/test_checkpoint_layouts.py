"""mmav_mask.models.checkpoint_layouts: one unwrap, one detector, and filters that
load official VideoMAE, MMAction2 ViT, TalkNet-ASD and our own layouts."""
from collections import OrderedDict

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.registry import DefaultScope

import mmav_mask  # noqa: F401
from mmav_mask.models.backbones import MaskedVideoViT, TalkNetAudioEncoder
from mmav_mask.models.checkpoint_layouts import (convert_checkpoint, detect_layout,
                                                 extract_audio_backbone, to_mmav,
                                                 unwrap_state_dict)


# ------------------------------------------------------------ TalkNet-ASD
def talknet_published_state_dict(seed: int = 0) -> 'OrderedDict[str, torch.Tensor]':
    """Keys and shapes of TalkNet-ASD's saved ``talkNet.state_dict()``.

    Written from TalkNet-ASD's published architecture (model/audioEncoder.py,
    model/talkNetModel.py, talkNet.py), not from our encoder:
    ``talkNet.model = talkNetModel()``, ``talkNetModel.audioEncoder =
    audioEncoder(layers=[3, 4, 6, 3], num_filters=[16, 32, 64, 128])``;
    conv1 7x7 (1 -> 16, no bias) + bn1; ``_make_layer`` blocks ``SEBasicBlock``
    (conv1 3x3, bn1, conv2 3x3, bn2, ``se.fc`` = Sequential(Linear(c, c // 8),
    ReLU, Linear(c // 8, c), Sigmoid)), a ``downsample`` Sequential(Conv2d 1x1,
    BatchNorm2d) on the first block when stride != 1 or the width changes;
    strides 1, (2, 2), (2, 2), (1, 1). The visual front end and loss heads sit
    beside it.
    """
    gen = torch.Generator().manual_seed(seed)
    state = OrderedDict()

    def rand(*shape):
        return torch.randn(*shape, generator=gen)

    def bn(prefix, c):
        state[prefix + 'weight'] = rand(c)
        state[prefix + 'bias'] = rand(c)
        state[prefix + 'running_mean'] = rand(c)
        state[prefix + 'running_var'] = rand(c).abs() + 0.5
        state[prefix + 'num_batches_tracked'] = torch.tensor(1234)

    pre = 'model.audioEncoder.'
    state[pre + 'conv1.weight'] = rand(16, 1, 7, 7)
    bn(pre + 'bn1.', 16)
    inplanes = 16
    for i, (blocks, planes, stride) in enumerate(zip([3, 4, 6, 3], [16, 32, 64, 128],
                                                     [1, 2, 2, 1])):
        for j in range(blocks):
            b = f'{pre}layer{i + 1}.{j}.'
            c_in = inplanes if j == 0 else planes
            state[b + 'conv1.weight'] = rand(planes, c_in, 3, 3)
            bn(b + 'bn1.', planes)
            state[b + 'conv2.weight'] = rand(planes, planes, 3, 3)
            bn(b + 'bn2.', planes)
            state[b + 'se.fc.0.weight'] = rand(planes // 8, planes)
            state[b + 'se.fc.0.bias'] = rand(planes // 8)
            state[b + 'se.fc.2.weight'] = rand(planes, planes // 8)
            state[b + 'se.fc.2.bias'] = rand(planes)
            if j == 0 and (stride != 1 or inplanes != planes):
                state[b + 'downsample.0.weight'] = rand(planes, inplanes, 1, 1)
                bn(b + 'downsample.1.', planes)
        inplanes = planes
    # the rest of talkNet: must be ignored
    state['model.visualFrontend.frontend3D.0.weight'] = rand(64, 1, 5, 7, 7)
    state['model.crossA2V.self_attn.in_proj_weight'] = rand(384, 128)
    state['lossAV.FC.weight'] = rand(2, 256)
    return state


@pytest.mark.parametrize('out_type', ['tokens', 'feature_map'])
def test_talknet_published_layout_loads_into_our_encoder(tmp_path, out_type):
    state = talknet_published_state_dict()
    path = str(tmp_path / 'pretrain_TalkSet.model')
    torch.save(state, path)  # talkNet.saveParameters: torch.save(self.state_dict(), path)
    assert detect_layout(state) == 'talknet'

    encoder = TalkNetAudioEncoder(out_dim=32, out_type=out_type, pretrained=path)
    mapped, _ = to_mmav(state)
    backbone = {k[len('audio_backbone.'):]: v for k, v in mapped.items()}
    result = encoder.load_state_dict(backbone, strict=False)
    # every TalkNet audio tensor has a place, every encoder tensor but the
    # projection to the visual width (not part of TalkNet) has a source
    assert result.unexpected_keys == []
    expected_missing = ['proj.weight', 'proj.bias'] if out_type == 'tokens' else []
    assert sorted(result.missing_keys) == sorted(expected_missing)
    assert len(backbone) == sum(k.startswith('model.audioEncoder.') for k in state)

    fresh = TalkNetAudioEncoder(out_dim=32, out_type=out_type, pretrained=path)
    fresh.init_weights()  # the config route: audio_backbone.pretrained
    own = fresh.state_dict()
    for key, value in state.items():
        if key.startswith('model.audioEncoder.'):
            assert torch.equal(own[key[len('model.audioEncoder.'):]], value), key
    out = fresh.eval()(torch.randn(2, 64, 13))
    assert torch.isfinite(out).all()


def test_talknet_file_to_recognizer_audio(tmp_path):
    state = talknet_published_state_dict()
    converted, count = extract_audio_backbone(state)
    assert count == sum(k.startswith('model.audioEncoder.') for k in state)
    keys = converted['state_dict']
    assert keys['backbone.conv1.weight'].shape == (16, 1, 7, 7)
    assert 'backbone.layer4.0.downsample.0.weight' in keys
    assert not any('visualFrontend' in k or 'lossAV' in k for k in keys)
    encoder = TalkNetAudioEncoder(out_type='feature_map')
    result = encoder.load_state_dict({k[len('backbone.'):]: v for k, v in keys.items()},
                                     strict=True)
    assert not result.missing_keys and not result.unexpected_keys


# ------------------------------------------------------------ unwrap/detect
def test_unwrap_order_prefix_and_non_tensors():
    a, b, c = torch.ones(1), torch.zeros(1), torch.full((1, ), 2.0)
    # mmengine file: 'state_dict' wins over anything else
    assert unwrap_state_dict({'state_dict': {'x': a}, 'model': {'x': b}})['x'] is a
    # official VideoMAE ('model') before DeepSpeed ('module')
    assert unwrap_state_dict({'model': {'x': b}, 'module': {'x': c}})['x'] is b
    assert unwrap_state_dict({'module': {'module.x': c}})['x'] is c  # DDP prefix
    # a plain state dict; non-tensor leftovers dropped
    assert list(unwrap_state_dict({'x': a, 'meta': {'epoch': 1}, 'n': 3})) == ['x']
    # a 'model' entry that is not a mapping is not a wrapper
    assert list(unwrap_state_dict({'model': 'vit', 'x': a})) == ['x']
    with pytest.raises(TypeError):
        unwrap_state_dict(torch.ones(1))


def test_detect_layout_and_unknown():
    assert detect_layout({'backbone.patch_embed.proj.weight': 0}) == 'mmav'
    assert detect_layout({'audio_backbone.conv1.weight': 0}) == 'mmav'
    assert detect_layout({'encoder.patch_embed.proj.weight': 0}) == 'videomae'
    assert detect_layout({'patch_embed.proj.weight': 0, 'head.weight': 0}) == \
        'videomae_finetuned'
    assert detect_layout({'backbone.patch_embed.projection.weight': 0}) == 'mmaction_vit'
    assert detect_layout({'model.audioEncoder.conv1.weight': 0}) == 'talknet'
    with pytest.raises(ValueError, match='unknown checkpoint layout.*resnet.fc'):
        detect_layout({'resnet.fc.weight': 0})


# ------------------------------------------------- MMAction2 ViT round trip
def _vit() -> MaskedVideoViT:
    torch.manual_seed(0)
    model = MaskedVideoViT(img_size=32, num_frames=4, embed_dims=24, depth=2, num_heads=2)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return model


def test_mmaction_vit_file_loads_back_into_masked_video_vit(tmp_path):
    """ours -> MMAction2 layout (converter) -> MaskedVideoViT(pretrained=...)."""
    src = _vit()
    ckpt = dict(state_dict={'backbone.' + k: v for k, v in src.state_dict().items()})
    converted, _ = convert_checkpoint(ckpt, num_frames=4, img_size=32, mean_pooling=False)
    path = str(tmp_path / 'mm.pth')
    torch.save(converted, path)
    assert detect_layout(converted['state_dict']) == 'mmaction_vit'
    dst = MaskedVideoViT(img_size=32, num_frames=4, embed_dims=24, depth=2, num_heads=2,
                         pretrained=path)
    dst.init_weights()
    for key, value in src.state_dict().items():
        assert torch.equal(dst.state_dict()[key], value), key


def test_recognizer_with_mmaction_vit_backbone_loads_our_pretraining(tmp_path):
    """AVRecognizer + MMAction2's VisionTransformer gets our VideoMAE-named
    backbone renamed (patch_embed.proj -> projection, fc1 -> layers.0.0)."""
    src = _vit()
    path = str(tmp_path / 'epoch_1.pth')
    torch.save(dict(state_dict={'backbone.' + k: v for k, v in src.state_dict().items()},
                    meta=dict(epoch=1)), path)
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = _build_recognizer(path)
    report = model.load_pretrained(path)
    assert report.unexpected == [] and report.mismatched == []
    assert [k for k in report.missing if k.startswith('backbone.')] in \
        ([], ['backbone.pos_embed'])
    own = model.state_dict()
    ref = src.state_dict()
    assert torch.equal(own['backbone.patch_embed.projection.weight'],
                       ref['patch_embed.proj.weight'])
    assert torch.equal(own['backbone.blocks.1.mlp.layers.0.0.weight'],
                       ref['blocks.1.mlp.fc1.weight'])
    assert torch.equal(own['backbone.fc_norm.weight'], ref['norm.weight'])


def _build_recognizer(path):
    return MODELS.build(dict(
        type='AVRecognizer',
        backbone=dict(type='VisionTransformer', img_size=32, patch_size=16, embed_dims=24,
                      depth=2, num_heads=2, num_frames=4, use_mean_pooling=True,
                      init_cfg=None),
        cls_head=dict(type='TimeSformerHead', num_classes=3, in_channels=24),
        pretrained=path))


def test_avmae_layout_is_untied_on_load():
    """An AVMAE checkpoint (shared block 0 in the video ViT, audio's own block
    1) loads as two stand-alone encoders."""
    w0, w1, n = torch.randn(2), torch.randn(2), torch.randn(2)
    state = {'backbone.video.blocks.0.attn.qkv.weight': w0,
             'backbone.video.blocks.1.attn.qkv.weight': torch.randn(2),
             'backbone.audio.blocks.1.attn.qkv.weight': w1,
             'backbone.video.norm.weight': n, 'decoder.norm.weight': torch.randn(2)}
    assert detect_layout(state) == 'avmae'
    mmav, layout = to_mmav(state)
    assert layout == 'avmae'
    assert torch.equal(mmav['audio_backbone.blocks.0.attn.qkv.weight'], w0)  # untied copy
    assert torch.equal(mmav['audio_backbone.blocks.1.attn.qkv.weight'], w1)
    assert torch.equal(mmav['audio_backbone.norm.weight'], n)
    assert torch.equal(mmav['backbone.blocks.0.attn.qkv.weight'], w0)
