"""MBT two-stream fine-tuning (TwoStreamViT in AVRecognizer): late-fusion limits,
the bottleneck as the only audio path, and initialisation from AVMAE encoders."""

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.registry import init_default_scope
from cli_utils import load_tool

tool = load_tool('tools/convert/avmae_to_recognizer.py', 'avmae_to_recognizer')

VIDEO = dict(type='MaskedVideoViT', img_size=32, num_frames=4,
             arch=dict(embed_dims=32, depth=3, num_heads=2))
AUDIO = dict(type='SpectrogramViT', input_size=(64, 32),
             arch=dict(embed_dims=32, depth=3, num_heads=2))


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmaction')


def two_stream(fusion_layer=1, num_bottlenecks=4, seed=0):
    torch.manual_seed(seed)
    return MODELS.build(dict(type='TwoStreamViT', video=VIDEO, audio=AUDIO,
                             fusion_layer=fusion_layer,
                             num_bottlenecks=num_bottlenecks)).eval()


def inputs(seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(2, 3, 4, 32, 32, generator=g), torch.randn(2, 64, 32, generator=g)


@pytest.mark.parametrize('fusion_layer,num_bottlenecks', [(3, 4), (1, 0)])
def test_no_exchange_is_two_independent_vits(fusion_layer, num_bottlenecks):
    """fusion_layer = depth or 0 bottlenecks: each stream is its ViT on its own
    (ground truth: the stand-alone ViT forward + mean pooling), fused by the mean."""
    model = two_stream(fusion_layer, num_bottlenecks)
    imgs, audio = inputs()
    with torch.no_grad():
        v, a = model.stream_features(imgs, audio)
        video_alone = model.video(imgs).mean(1)   # MaskedVideoViT: norm(tokens)
        audio_alone = model.audio(audio).mean(1)  # SpectrogramViT: norm(tokens)
        fused = model(imgs, audio)
    torch.testing.assert_close(v, video_alone, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(a, audio_alone, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(fused, (video_alone + audio_alone) / 2, rtol=1e-5, atol=1e-6)


def test_audio_reaches_the_video_stream_only_through_the_bottlenecks():
    """A different audio changes the video stream; with the bottleneck tokens
    recorded at each fused layer, replaying the video stream alone reproduces it
    exactly, and with 0 bottlenecks the audio has no effect at all."""
    model = two_stream(fusion_layer=1)
    imgs, audio = inputs()
    other = audio + torch.randn_like(audio)
    with torch.no_grad():
        v1, _ = model.stream_features(imgs, audio)
        v2, _ = model.stream_features(imgs, other)
        assert (v1 - v2).abs().max() > 1e-3

        # replay: the pre-fusion layers alone, then each fused layer with the
        # bottleneck tokens the exchange fed it (recorded by a hook)
        fed = []
        hooks = [blk.register_forward_pre_hook(lambda m, args: fed.append(args[0][:, -4:]))
                 for blk in model.video.blocks[1:]]
        model.stream_features(imgs, other)
        for h in hooks:
            h.remove()
        x = model.video.patch_embed(imgs)
        x = model.video.blocks[0](x + model.video.position_table(x.shape[1], x))
        n = x.shape[1]
        for blk, z in zip(model.video.blocks[1:], fed):
            x = blk(torch.cat([x, z], 1))[:, :n]
        torch.testing.assert_close(model.video.norm(x).mean(1), v2, rtol=0, atol=0)

        closed = two_stream(fusion_layer=1, num_bottlenecks=0)
        a1, _ = closed.stream_features(imgs, audio)
        a2, _ = closed.stream_features(imgs, other)
        torch.testing.assert_close(a1, a2, rtol=0, atol=0)


def test_clip_without_audio_reads_out_video_only():
    model = two_stream()
    imgs, audio = inputs()
    valid = torch.tensor([True, False])
    with torch.no_grad():
        out1 = model(imgs, audio, valid)
        out2 = model(imgs, torch.randn_like(audio), valid)
        v, _ = model.stream_features(imgs, audio, valid)
    assert (out1[0] - out2[0]).abs().max() > 1e-4      # real audio is heard
    torch.testing.assert_close(out1[1], out2[1], rtol=0, atol=0)  # silent clip is not
    torch.testing.assert_close(out1[1], v[1], rtol=0, atol=0)     # video vector alone


def test_refuses_bad_settings():
    with pytest.raises(ValueError, match='fusion_layer must be in'):
        two_stream(fusion_layer=4)
    with pytest.raises(ValueError, match='equal width and depth'):
        MODELS.build(dict(type='TwoStreamViT', video=VIDEO,
                          audio=dict(AUDIO, arch=dict(embed_dims=32, depth=2, num_heads=2))))
    model = two_stream()
    with pytest.raises(ValueError, match='no audio'):
        model(inputs()[0], None)
    with pytest.raises(ValueError, match='audio_backbone=None'):
        MODELS.build(dict(type='AVRecognizer', backbone=dict(type='TwoStreamViT', video=VIDEO,
                                                             audio=AUDIO, fusion_layer=1),
                          audio_backbone=AUDIO,
                          cls_head=dict(type='TimeSformerHead', num_classes=3, in_channels=32)))


def recognizer(pretrained=None):
    torch.manual_seed(5)
    model = MODELS.build(dict(
        type='AVRecognizer',
        backbone=dict(type='TwoStreamViT', video=VIDEO, audio=AUDIO, fusion_layer=2),
        audio_backbone=None,
        cls_head=dict(type='TimeSformerHead', num_classes=3, in_channels=32),
        pretrained=pretrained))
    return model


@pytest.mark.parametrize('enc', ['mid', 'early'])
def test_avmae_checkpoint_fills_every_encoder_weight(enc, tmp_path):
    """Converted file and raw AVMAE checkpoint both load: no missing weight but the
    bottleneck tokens and the head, nothing unexpected, and each stream equals the
    pretraining encoder run on its modality alone."""
    torch.manual_seed(0)
    pre = MODELS.build(dict(
        type='AVMAE',
        backbone=dict(type='AVMAEEncoder', fusion=enc, num_joint_layers=1, video=VIDEO,
                      audio=AUDIO),
        neck=dict(type='AVMAEDecoder', fusion='shared',
                  decoder=dict(type='VideoMAEDecoder', embed_dims=16, depth=1,
                               num_heads=2)))).eval()
    torch.save(dict(state_dict=pre.state_dict()), tmp_path / 'pre.pth')
    assert tool.main([str(tmp_path / 'pre.pth'), str(tmp_path / 'enc.pth')]) == 0
    for path in (tmp_path / 'enc.pth', tmp_path / 'pre.pth'):
        model = recognizer(str(path))
        report = model.load_pretrained(str(path))
        assert report.unexpected == [] and report.mismatched == []
        own = set(model.state_dict())
        new = {k for k in own if k.startswith(('cls_head.', 'backbone.bottleneck.'))}
        assert set(report.loaded) == own - new, sorted(own - new - set(report.loaded))
        assert report.missing == []
        model.eval()
        imgs, audio = inputs()
        with torch.no_grad():
            ref_v, _ = pre.backbone(imgs, None)
            _, ref_a = pre.backbone(None, None, audio, None)
            # with the bottlenecks closed (fusion at depth) the streams are the
            # pretraining encoders
            model.backbone.fusion_layer = 3
            v, a = model.backbone.stream_features(imgs, audio)
        torch.testing.assert_close(v, ref_v.mean(1), rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(a, ref_a.mean(1), rtol=1e-5, atol=1e-5)


def test_recognizer_trains_and_predicts_through_the_two_streams():
    model = recognizer().train()
    imgs, audio = inputs()
    batch = dict(imgs=imgs[:, None], audio=audio[:, None],
                 audio_valid=torch.tensor([True, False]))
    samples = [ActionDataSample().set_gt_label(torch.tensor([i])) for i in (0, 2)]
    losses = model.loss(batch, samples)
    losses['loss_cls'].backward()
    assert model.backbone.bottleneck.tokens.grad.abs().sum() > 0
    assert model.backbone.audio.blocks[0].attn.qkv.weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        preds = model.predict(batch, samples)
    assert preds[0].pred_score.numel() == 3 and torch.isfinite(preds[0].pred_score).all()
