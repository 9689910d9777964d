"""AVRecognizer: fusion of both encoders, clips without audio, multi-view
averaging, initialisation from a real AVMaskEnhancer pretraining checkpoint and
agreement with MMAction2's VisionTransformer on the converted weights."""
import pytest
import torch
import torch.nn.functional as F
from mmaction.models.backbones.vit_mae import VisionTransformer
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.registry import DefaultScope

import mmav_mask  # noqa: F401
from mmav_mask.models.checkpoint_layouts import convert_checkpoint
from mmav_mask.utils import safe_load

D, DA, NUM_CLASSES = 24, 16, 5
BACKBONE = dict(type='MaskedVideoViT', img_size=32, num_frames=4, embed_dims=D, depth=2,
                num_heads=2)
AUDIO = dict(type='TalkNetAudioEncoder', out_dim=DA, num_tokens=4, layers=(1, 1, 1, 1),
             widths=(4, 8, 8, 8))


@pytest.fixture(autouse=True)
def _scope():
    with DefaultScope.overwrite_default_scope('mmaction'):
        yield


def _recognizer(fusion='concat', **kwargs):
    torch.manual_seed(0)
    in_channels = D + DA if fusion == 'concat' else D
    cfg = dict(type='AVRecognizer', backbone=BACKBONE,
               audio_backbone=dict(AUDIO, out_dim=DA if fusion == 'concat' else D),
               cls_head=dict(type='TimeSformerHead', num_classes=NUM_CLASSES,
                             in_channels=in_channels, average_clips='prob'),
               fusion=fusion, data_preprocessor=dict(type='ActionDataPreprocessor'),
               **kwargs)
    return MODELS.build(cfg)


def _inputs(n=2, views=3, valid=(True, False)):
    gen = torch.Generator().manual_seed(1)
    return dict(imgs=torch.randn(n, views, 3, 4, 32, 32, generator=gen),
                audio=torch.randn(n, views, 16, 13, generator=gen),
                audio_valid=torch.tensor(valid[:n]))


def _samples(n=2):
    return [ActionDataSample().set_gt_label(torch.tensor(i % NUM_CLASSES)) for i in range(n)]


def test_loss_and_multi_view_predict():
    model = _recognizer()
    inputs = _inputs()
    model.train()
    losses = model(_inputs(views=1), _samples(), mode='loss')
    assert torch.isfinite(losses['loss_cls']) and losses['loss_cls'] > 0
    losses['loss_cls'].backward()
    assert model.backbone.blocks[0].attn.qkv.weight.grad.abs().sum() > 0
    assert model.audio_backbone.proj.weight.grad.abs().sum() > 0  # sample 0 has audio
    # Several training views per clip count as samples with the clip's label.
    assert torch.isfinite(model(inputs, _samples(), mode='loss')['loss_cls'])

    model.eval()
    with torch.no_grad():
        preds = model(inputs, _samples(), mode='predict')
        feats = model(inputs, mode='tensor')                            # (N*V, D + Da)
        assert feats.shape == (6, D + DA)
        # Recognizer3D semantics: softmax per view, averaged over the clip's views.
        expected = F.softmax(model.cls_head(feats), dim=1).view(2, 3, -1).mean(1)
    for i, sample in enumerate(preds):
        torch.testing.assert_close(sample.pred_score, expected[i])
        assert int(sample.pred_label) == int(expected[i].argmax())
    # Chunked scoring at test time (max_testing_views) changes nothing.
    model.test_cfg = dict(max_testing_views=2)
    with torch.no_grad():
        chunked = model(inputs, _samples(), mode='predict')
    torch.testing.assert_close(chunked[0].pred_score, preds[0].pred_score)


@pytest.mark.parametrize('fusion', ['concat', 'sum'])
def test_clip_without_audio_gets_no_audio_information(fusion):
    model = _recognizer(fusion).eval()
    inputs = _inputs()
    other = dict(inputs, audio=inputs['audio'] * 5 + 3)  # different audio everywhere
    with torch.no_grad():
        feats = model(inputs, mode='tensor').view(2, 3, -1)
        feats_other = model(other, mode='tensor').view(2, 3, -1)
        video_only = model.video_feature(inputs['imgs'][1])            # (V, D)
    # Clip 1 (audio_valid False): audio ignored, feature = video feature (+ zeros).
    torch.testing.assert_close(feats[1], feats_other[1])
    torch.testing.assert_close(feats[1, :, :D], video_only)
    if fusion == 'concat':
        assert torch.count_nonzero(feats[1, :, D:]) == 0
    # Clip 0 (audio_valid True) does depend on its audio.
    assert not torch.allclose(feats[0], feats_other[0])
    # No audio key at all (video-only data) behaves like every clip silent.
    with torch.no_grad():
        no_audio = model(dict(imgs=inputs['imgs']), mode='tensor').view(2, 3, -1)
    torch.testing.assert_close(no_audio[1], feats[1])


def test_silent_batch_keeps_batchnorm_stats_and_ddp_graph():
    model = _recognizer().train()
    bn = model.audio_backbone.bn1
    before = bn.running_mean.clone()
    losses = model(_inputs(views=1, valid=(False, False)), _samples(), mode='loss')
    # The placeholder audio of silent clips never reaches the audio encoder ...
    assert torch.equal(bn.running_mean, before) and int(bn.num_batches_tracked) == 0
    losses['loss_cls'].backward()
    # ... yet every audio parameter is in the graph (zero gradient), as DDP needs.
    for name, p in model.audio_backbone.named_parameters():
        assert p.grad is not None and torch.count_nonzero(p.grad) == 0, name
    # With audio_drop_prob close to 1, valid clips are treated as silent while training.
    model = _recognizer(audio_drop_prob=0.999).train()
    model(_inputs(views=1, valid=(True, True)), _samples(), mode='loss')
    assert int(model.audio_backbone.bn1.num_batches_tracked) == 0


def _pretrained_avmask(tmp_path):
    """A real (tiny) AVMaskEnhancer checkpoint (state_dict + meta, as the runner saves)."""
    torch.manual_seed(3)
    avmask = MODELS.build(dict(
        type='AVMaskEnhancer', backbone=BACKBONE,
        decoder=dict(type='VideoMAEDecoder', embed_dims=16, depth=1, num_heads=2),
        head=dict(type='PixelReconstructionHead'), audio_backbone=dict(AUDIO, out_dim=D),
        fusion=dict(type='CrossAttentionFusion', num_heads=2, dropout=0.0)))
    with torch.no_grad():  # make every tensor distinct from a fresh init
        for p in avmask.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    ckpt = dict(state_dict=avmask.state_dict(), meta=dict(epoch=1, iter=10))
    path = str(tmp_path / 'epoch_1.pth')
    torch.save(ckpt, path)
    return avmask, path


def test_init_from_pretraining_checkpoint_matches_mmaction(tmp_path):
    avmask, path = _pretrained_avmask(tmp_path)
    model = _recognizer('sum', pretrained=path)
    report = model.load_pretrained(path)
    assert report.missing == [] and report.unexpected == [] and report.mismatched == []
    assert any(k.startswith('decoder.') for k in report.dropped)
    assert any(k.startswith('fusion.') for k in report.dropped)
    src = avmask.state_dict()
    own = model.state_dict()
    for key in src:
        if key.startswith(('backbone.', 'audio_backbone.')) and key != 'backbone.norm.weight' \
                and key != 'backbone.norm.bias':
            assert torch.equal(own[key], src[key]), key
    assert torch.equal(own['backbone.fc_norm.weight'], src['backbone.norm.weight'])

    # The visual feature equals MMAction2's VisionTransformer (mean pooling +
    # fc_norm) loaded with the converter's output of the same checkpoint.
    converted, _ = convert_checkpoint(safe_load(path), num_frames=4,
                                      img_size=32)
    vit = VisionTransformer(img_size=32, patch_size=16, embed_dims=D, depth=2, num_heads=2,
                            num_frames=4, init_cfg=None).eval()
    vit.load_state_dict({k[len('backbone.'):]: v for k, v in converted['state_dict'].items()},
                        strict=True)
    model.eval()
    x = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model.video_feature(x), vit(x), atol=2e-5, rtol=1e-4)


def test_init_weights_loads(tmp_path):
    avmask, path = _pretrained_avmask(tmp_path)
    model = _recognizer('sum', pretrained=path)
    model.init_weights()
    assert torch.equal(model.backbone.blocks[1].attn.q_bias,
                       avmask.backbone.blocks[1].attn.q_bias)


def test_config_errors():
    with pytest.raises(ValueError, match='in_channels'):
        MODELS.build(dict(type='AVRecognizer', backbone=BACKBONE, audio_backbone=AUDIO,
                          cls_head=dict(type='TimeSformerHead', num_classes=3,
                                        in_channels=D),
                          data_preprocessor=dict(type='ActionDataPreprocessor')))
    with pytest.raises(ValueError, match='equal widths'):
        MODELS.build(dict(
            type='AVRecognizer', backbone=BACKBONE, audio_backbone=AUDIO, fusion='sum',
            cls_head=dict(type='TimeSformerHead', num_classes=3, in_channels=D),
            data_preprocessor=dict(type='ActionDataPreprocessor')))


def _train_and_predict(model, inputs, n=2):
    model.train()
    losses = model(inputs, _samples(n), mode='loss')
    assert torch.isfinite(losses['loss_cls'])
    losses['loss_cls'].backward()
    model.eval()
    with torch.no_grad():
        return model(inputs, _samples(n), mode='predict')


def test_stock_mmaction_vision_transformer_backbone():
    """MMAction2's VisionTransformer (forward(x) -> (B, D)) as the visual
    encoder: before, AVRecognizer called backbone(imgs, None) -> TypeError."""
    torch.manual_seed(0)
    vit = dict(type='VisionTransformer', img_size=32, patch_size=16, embed_dims=D, depth=2,
               num_heads=2, num_frames=4, use_mean_pooling=True, init_cfg=None)
    model = MODELS.build(dict(
        type='AVRecognizer', backbone=vit, audio_backbone=AUDIO,
        cls_head=dict(type='TimeSformerHead', num_classes=NUM_CLASSES, in_channels=D + DA,
                      average_clips='prob')))
    preds = _train_and_predict(model, _inputs())
    assert preds[0].pred_score.shape == (NUM_CLASSES, )
    assert model.backbone.blocks[0].attn.qkv.weight.grad.abs().sum() > 0
    # the feature is exactly MMAction2's backbone output next to the audio vector
    x = _inputs()
    with torch.no_grad():
        feats = model(x, mode='tensor')
        torch.testing.assert_close(feats[:, :D], model.backbone(x['imgs'].flatten(0, 1)))


def test_video_only_with_mmaction_preprocessor_and_audio_only():
    torch.manual_seed(0)
    # video only: no audio encoder; MMAction2's ActionDataPreprocessor gives a tensor
    video_only = MODELS.build(dict(
        type='AVRecognizer', backbone=BACKBONE,
        cls_head=dict(type='TimeSformerHead', num_classes=NUM_CLASSES, in_channels=D,
                      average_clips='prob'),
        data_preprocessor=dict(type='ActionDataPreprocessor')))
    assert video_only.audio_backbone is None and video_only.feat_dim == D
    assert _train_and_predict(video_only, _inputs()['imgs'])[0].pred_score.shape == (5, )
    with torch.no_grad():
        feats = video_only(_inputs()['imgs'], mode='tensor')
        torch.testing.assert_close(feats, video_only.backbone(
            _inputs()['imgs'].flatten(0, 1)))
    # audio only: no visual encoder, views come from the audio
    audio_only = MODELS.build(dict(
        type='AVRecognizer', backbone=None, audio_backbone=AUDIO,
        cls_head=dict(type='TimeSformerHead', num_classes=NUM_CLASSES, in_channels=DA,
                      average_clips='prob')))
    inputs = _inputs()
    del inputs['imgs']
    preds = _train_and_predict(audio_only, inputs)
    assert preds[0].pred_score.shape == (NUM_CLASSES, )
    assert audio_only.audio_backbone.proj.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('variant', ['video', 'audio', 'av'])
def test_every_variant_loads_the_pretraining_checkpoint_the_same_way(tmp_path, variant):
    avmask, path = _pretrained_avmask(tmp_path)
    widths = dict(video=D, audio=D, av=2 * D)[variant]
    model = MODELS.build(dict(
        type='AVRecognizer', backbone=None if variant == 'audio' else BACKBONE,
        audio_backbone=None if variant == 'video' else dict(AUDIO, out_dim=D),
        cls_head=dict(type='TimeSformerHead', num_classes=NUM_CLASSES, in_channels=widths),
        pretrained=path))
    model.init_weights()
    own, src = model.state_dict(), avmask.state_dict()
    encoders = [p for p, on in (('backbone.', variant != 'audio'),
                                ('audio_backbone.', variant != 'video')) if on]
    checked = 0
    for key, value in src.items():
        if key.startswith(tuple(encoders)):
            target = key.replace('backbone.norm.', 'backbone.fc_norm.') \
                if key.startswith('backbone.norm.') else key
            assert torch.equal(own[target], value), key
            checked += 1
    assert checked > 10


def test_read_out_is_the_backbones():
    """fc_norm only sets a default of the backbone's own use_mean_pooling."""
    rec = _recognizer()
    assert rec.backbone.use_mean_pooling and rec.use_fc_norm
    assert not hasattr(rec, 'fc_norm') and isinstance(rec.backbone.norm, torch.nn.Identity)
    tokens = _recognizer(fc_norm=False)  # token-wise norm kept, tokens pooled by the recognizer
    assert not tokens.backbone.use_mean_pooling and not tokens.use_fc_norm
    x = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(tokens.video_feature(x), tokens.backbone(x).mean(1))


def test_stock_vision_transformer_loads_the_pretraining_checkpoint(tmp_path):
    """Same file, same ``pretrained`` route: MMAction2's VisionTransformer and our
    MaskedVideoViT (independent implementations) give the same visual feature."""
    _, path = _pretrained_avmask(tmp_path)
    vit = dict(type='VisionTransformer', img_size=32, patch_size=16, embed_dims=D, depth=2,
               num_heads=2, num_frames=4, init_cfg=None)
    head = dict(type='TimeSformerHead', num_classes=NUM_CLASSES, in_channels=2 * D)
    audio = dict(AUDIO, out_dim=D)
    stock = MODELS.build(dict(type='AVRecognizer', backbone=vit, audio_backbone=audio,
                              cls_head=head))
    ours = MODELS.build(dict(type='AVRecognizer', backbone=BACKBONE, audio_backbone=audio,
                             cls_head=head))
    for model in (stock, ours):
        report = model.load_pretrained(path)
        # MMAction2 keeps its fixed sinusoid table in the state dict; checkpoints do not
        assert set(report.missing) <= {'backbone.pos_embed'}
        assert report.unexpected == [] and report.mismatched == []
        model.eval()
    x = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(stock.video_feature(x), ours.video_feature(x),
                                   atol=2e-5, rtol=1e-4)
