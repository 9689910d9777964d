"""AVMAE encoders -> AVRecognizer: shared layers untied, same features as pretraining."""

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.registry import init_default_scope

from mmav_mask.models.algorithms.av_mae_checkpoint import untie_avmae_encoders
from cli_utils import load_tool

tool = load_tool('tools/convert/avmae_to_recognizer.py', 'avmae_to_recognizer')


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmaction')
VIDEO = dict(type='MaskedVideoViT', img_size=32, num_frames=4,
             arch=dict(embed_dims=32, depth=2, num_heads=2))
AUDIO = dict(type='SpectrogramViT', input_size=(64, 32), arch=dict(embed_dims=32, depth=2,
                                                                    num_heads=2))


def pretrain_model(enc):
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='AVMAE',
        backbone=dict(type='AVMAEEncoder', fusion=enc, num_joint_layers=1, video=VIDEO,
                      audio=AUDIO),
        neck=dict(type='AVMAEDecoder', fusion='shared',
                  decoder=dict(type='VideoMAEDecoder', embed_dims=16, depth=1, num_heads=2))))


def recognizer(path):
    torch.manual_seed(1)
    model = MODELS.build(dict(
        type='AVRecognizer', backbone=VIDEO, audio_backbone=AUDIO, fc_norm=False,
        cls_head=dict(type='TimeSformerHead', num_classes=3, in_channels=64),
        pretrained=path))
    model.init_weights()
    return model.eval()


@pytest.mark.parametrize('enc', ['shared', 'mid', 'separate', 'early'])
def test_untied_encoders_give_the_pretraining_features(enc, tmp_path):
    """Each stream of the recognizer computes what the pretraining encoder computes
    for that modality alone (for shared/early/mid: the shared layers, now copied)."""
    pre = pretrain_model(enc).eval()
    torch.save(dict(state_dict=pre.state_dict()), tmp_path / 'pre.pth')
    assert tool.main([str(tmp_path / 'pre.pth'), str(tmp_path / 'enc.pth')]) == 0
    rec = recognizer(str(tmp_path / 'enc.pth'))
    imgs, audio = torch.randn(2, 3, 4, 32, 32), torch.randn(2, 64, 32)
    with torch.no_grad():
        video_pre, _ = pre.backbone(imgs, None)
        _, audio_pre = pre.backbone(None, None, audio, None)
        torch.testing.assert_close(rec.backbone(imgs), video_pre, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(rec.audio_backbone(audio), audio_pre, rtol=1e-5, atol=1e-5)
    # the copies are untied: separate tensors in the recognizer
    assert rec.audio_backbone.blocks[1].attn.qkv.weight.data_ptr() != \
        rec.backbone.blocks[1].attn.qkv.weight.data_ptr()


def test_not_an_avmae_checkpoint(tmp_path, capsys):
    with pytest.raises(KeyError, match='not an AVMAE checkpoint'):
        untie_avmae_encoders({'backbone.blocks.0.attn.qkv.weight': torch.zeros(1)})
    torch.save({'state_dict': {'x': torch.zeros(1)}}, tmp_path / 'bad.pth')
    assert tool.main([str(tmp_path / 'bad.pth'), str(tmp_path / 'o.pth')]) == 1
    err = capsys.readouterr().err
    assert 'bad.pth' in err and 'not an AVMAE' in err
