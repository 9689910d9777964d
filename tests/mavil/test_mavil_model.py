"""MAViL: fusion encoder properties, losses against hand-computed values, the frozen
teacher, retrieval embeddings and the paper's input sizes."""
import math

import pytest
import torch
import torch.nn.functional as F

from mavil_tiny import build, make_inputs, tiny_cfg
from mmav_mask.models.backbones.mavil_encoder import MAViLEncoder
from mmav_mask.utils.checkpoint import save_checkpoint_atomic


def _flat(inputs, key):
    return inputs[key].flatten(0, 1) if key in ('imgs', 'audio') else inputs[key]


def _tiny_encoder(mode, tokens=4):
    torch.manual_seed(0)
    return build(tiny_cfg(mode=mode, num_bottleneck_tokens=tokens)['backbone'])


@pytest.fixture
def stage1(tmp_path):
    """A saved stage-1 tiny MAViL (random weights) and the model that wrote it."""
    torch.manual_seed(1)
    model = build(tiny_cfg())
    path = str(tmp_path / 'stage1.pth')
    save_checkpoint_atomic(dict(state_dict=model.state_dict(), meta=dict()), path)
    return path, model


# ------------------------------------------------------------------ fusion
@pytest.mark.parametrize('mode,tokens,audio_reaches_video', [
    ('mbt', 4, True), ('mbt', 0, False), ('vanilla', 4, True)])
def test_audio_reaches_fused_video_only_through_the_fusion(mode, tokens, audio_reaches_video):
    """Perturbing the audio changes v_mm with bottleneck tokens (or joint attention) and
    leaves it bit-identical with 0 bottleneck tokens; v_um never depends on the audio."""
    enc = _tiny_encoder(mode, tokens).eval()
    x = make_inputs(batch=2)
    imgs, audio = _flat(x, 'imgs'), _flat(x, 'audio')
    other = audio + torch.randn(audio.shape, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        a = enc(imgs, x['mask'], audio, x['audio_mask'])
        b = enc(imgs, x['mask'], other, x['audio_mask'])
    assert torch.equal(a.video_um, b.video_um)
    assert not torch.allclose(a.audio_um, b.audio_um)
    if audio_reaches_video:
        assert (a.video_mm - b.video_mm).abs().max() > 1e-4
    else:
        assert torch.equal(a.video_mm, b.video_mm)


def test_mbt_blocks_see_only_their_modality_and_the_bottleneck():
    """Each MBT video block gets [video tokens, 4 bottleneck tokens]: Nv + 4 rows."""
    enc = _tiny_encoder('mbt', 4).eval()
    x = make_inputs(batch=2)
    seen = []
    hook = enc.fusion.video_blocks[0].register_forward_pre_hook(
        lambda m, args: seen.append(args[0].shape[1]))
    with torch.no_grad():
        out = enc(_flat(x, 'imgs'), x['mask'], _flat(x, 'audio'), x['audio_mask'])
    hook.remove()
    assert seen == [out.video_um.shape[1] + 4]


def test_fusion_refuses_bad_settings():
    with pytest.raises(ValueError, match='fusion mode'):
        build(tiny_cfg(mode='early')['backbone'])
    cfg = tiny_cfg()['backbone']
    cfg['audio'] = dict(type='SpectrogramViT', arch=dict(embed_dims=64, depth=1, num_heads=2),
                        input_size=(256, 128))
    with pytest.raises(ValueError, match='one width'):
        build(cfg)


# ------------------------------------------------------------------ losses
def _info_nce(a, b, tau):
    """Eq. 2 of the paper, written out: anchors a, softmax over the b's."""
    a, b = F.normalize(a.double(), dim=1), F.normalize(b.double(), dim=1)
    logits = a @ b.t() / tau
    return -(torch.diagonal(logits) - torch.logsumexp(logits, dim=1)).mean()


def test_stage1_losses_match_hand_computed_values():
    """loss_video / loss_audio = masked MSE against raw pixels in [0, 1] / raw fbank;
    loss_inter = 0.1 * InfoNCE_0.1(mean a_um, mean v_um); loss_intra = 0.01 * 1/2 [InfoNCE_1
    (a, a~) + InfoNCE_1(v, v~)] with the second view through the uni-modal encoders."""
    torch.manual_seed(0)
    model = build(tiny_cfg())
    x = make_inputs(batch=4)
    losses = model(x, mode='loss')
    assert set(losses) == {'loss_video', 'loss_audio', 'loss_inter', 'loss_intra'}

    imgs, audio = _flat(x, 'imgs'), _flat(x, 'audio')
    with torch.no_grad():
        feats = model.backbone(imgs, x['mask'], audio, x['audio_mask'])
        preds = model.neck(feats.video_mm, x['mask'], feats.audio_mm, x['audio_mask'])
        v2 = model.backbone.video(imgs, x['mask_view2']).mean(1)
        a2 = model.backbone.audio(audio, x['audio_mask_view2']).mean(1)
    # raw target by hand: undo the normalisation, cut tubelets (t p p c order)
    mean = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1, 1) / 255
    std = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1, 1) / 255
    pix = imgs * std + mean
    tubes = pix.reshape(4, 3, 4, 2, 4, 16, 4, 16).permute(0, 2, 4, 6, 3, 5, 7, 1)
    tubes = tubes.reshape(4, 64, -1)
    video_mse = torch.stack([(preds['video'][b] - tubes[b][x['mask'][b].flatten()]).pow(2).mean()
                             for b in range(4)]).mean()
    patches = audio.reshape(4, 16, 16, 8, 16).permute(0, 1, 3, 2, 4).reshape(4, 128, 256)
    audio_mse = torch.stack([(preds['audio'][b] - patches[b][x['audio_mask'][b].flatten()])
                             .pow(2).mean() for b in range(4)]).mean()
    v, a = feats.video_um.mean(1), feats.audio_um.mean(1)
    torch.testing.assert_close(losses['loss_video'].detach(), video_mse, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(losses['loss_audio'].detach(), audio_mse, rtol=1e-5, atol=1e-6)
    assert math.isclose(float(losses['loss_inter'].detach()), 0.1 * float(_info_nce(a, v, 0.1)),
                        rel_tol=1e-5)
    intra = 0.5 * (_info_nce(a, a2, 1.0) + _info_nce(v, v2, 1.0))
    assert math.isclose(float(losses['loss_intra'].detach()), 0.01 * float(intra), rel_tol=1e-5)


def test_contrastive_terms_can_be_switched_off():
    torch.manual_seed(0)
    model = build(tiny_cfg(inter_loss=None, intra_loss=None))
    x = make_inputs(batch=2)
    del x['mask_view2'], x['audio_mask_view2']  # no second view needed
    assert set(model(x, mode='loss')) == {'loss_video', 'loss_audio'}
    model = build(tiny_cfg())
    with pytest.raises(KeyError, match='mask_view2'):
        model(x, mode='loss')


# ------------------------------------------------------------------ stage 2
def test_teacher_is_loaded_frozen_and_left_out_of_optimizer_and_checkpoint(stage1):
    from mmengine.optim import build_optim_wrapper
    path, stage1_model = stage1
    torch.manual_seed(7)
    model = build(tiny_cfg(target='fusion', teacher=dict(checkpoint=path)))
    model.init_weights()
    teacher_state = {k: v.clone() for k, v in model.teacher.state_dict().items()}
    for k, v in stage1_model.backbone.state_dict().items():
        assert torch.equal(teacher_state[k], v), k   # loaded, and init_weights kept it
    student = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    optim = build_optim_wrapper(model, dict(
        optimizer=dict(type='AdamW', lr=1e-2, weight_decay=0.05),
        paramwise_cfg=dict(norm_decay_mult=0.0)))
    in_optim = {id(p) for g in optim.optimizer.param_groups for p in g['params']}
    assert not in_optim & {id(p) for p in model.teacher.parameters()}
    model.train()
    assert not model.teacher.training
    losses = model(make_inputs(batch=3), mode='loss')
    optim.update_params(sum(losses.values()))
    for name, p in model.teacher.named_parameters():
        assert not p.requires_grad and p.grad is None, name
        assert torch.equal(p, teacher_state[name]), name
    assert any(not torch.equal(v, student[k]) for k, v in model.backbone.state_dict().items())
    assert not [k for k in model.state_dict() if k.startswith('teacher.')]


@pytest.mark.parametrize('target', ['fusion', 'unimodal'])
def test_stage2_loss_is_masked_mse_to_the_teachers_full_view_features(stage1, target):
    """Student predictions of the masked tokens vs. the teacher's features of the FULL
    input at those positions, picked by hand with boolean indexing."""
    path, stage1_model = stage1
    torch.manual_seed(3)
    model = build(tiny_cfg(target=target, teacher=dict(checkpoint=path)))
    x = make_inputs(batch=3)
    with pytest.raises(RuntimeError, match='teacher is not loaded'):
        model(x, mode='loss')
    model.init_weights()
    losses = model(x, mode='loss')
    assert {'loss_video', 'loss_audio', 'loss_inter', 'loss_intra'} == set(losses)
    imgs, audio = _flat(x, 'imgs'), _flat(x, 'audio')
    with torch.no_grad():
        t = stage1_model.backbone.eval()(imgs, None, audio, None)  # the file's weights
        tv, ta = (t.video_mm, t.audio_mm) if target == 'fusion' else (t.video_um, t.audio_um)
        assert tv.shape[1] == 64 and ta.shape[1] == 128  # every token: unmasked input
        feats = model.backbone(imgs, x['mask'], audio, x['audio_mask'])
        preds = model.neck(feats.video_mm, x['mask'], feats.audio_mm, x['audio_mask'])
    assert preds['video'].shape == (3, 51, 96) and preds['audio'].shape == (3, 102, 96)
    want_v = torch.stack([(preds['video'][b] - tv[b][x['mask'][b].flatten()]).pow(2).mean()
                          for b in range(3)]).mean()
    want_a = torch.stack([(preds['audio'][b] - ta[b][x['audio_mask'][b].flatten()]).pow(2).mean()
                          for b in range(3)]).mean()
    torch.testing.assert_close(losses['loss_video'].detach(), want_v, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(losses['loss_audio'].detach(), want_a, rtol=1e-5, atol=1e-7)


def test_teacher_settings_and_files_are_checked(stage1, tmp_path):
    path, _ = stage1
    with pytest.raises(ValueError, match='teacher would be unused'):
        build(tiny_cfg(target='raw', teacher=dict(checkpoint=path)))
    with pytest.raises(ValueError, match='give teacher'):
        build(tiny_cfg(target='fusion'))
    avmae = str(tmp_path / 'avmae.pth')
    save_checkpoint_atomic(dict(state_dict={'backbone.video.norm.weight': torch.ones(96)}),
                           avmae)
    with pytest.raises(ValueError, match="'avmae' layout"):
        build(tiny_cfg(target='fusion', teacher=dict(checkpoint=avmae))).init_weights()
    wider = tiny_cfg(target='fusion', teacher=dict(checkpoint=path))
    wider['backbone']['fusion']['num_layers'] = 3   # the file has 2 fusion layers
    with pytest.raises(ValueError, match='does not fit the teacher'):
        build(wider).init_weights()


# ------------------------------------------------------------------ predict
def test_predict_writes_full_view_embeddings_averaged_over_views():
    torch.manual_seed(0)
    model = build(tiny_cfg()).eval()
    x = make_inputs(batch=2, views=2)
    samples = model(x, mode='predict')
    with torch.no_grad():
        v = model.backbone.video(x['imgs'].flatten(0, 1), None).mean(1).view(2, 2, -1).mean(1)
        a = model.backbone.audio(x['audio'].flatten(0, 1), None).mean(1).view(2, 2, -1).mean(1)
    for i, s in enumerate(samples):
        assert s.video_embedding.shape == (96, )
        torch.testing.assert_close(s.video_embedding, v[i])
        torch.testing.assert_close(s.audio_embedding, a[i])
        assert float(s.rec_mse) > 0 and float(s.rec_audio_mse) > 0 and float(s.rec_psnr) > 0


# ------------------------------------------------------------------ paper sizes
@pytest.mark.parametrize('target', ['raw', 'fusion'])
def test_paper_input_sizes(tmp_path, target):
    """10 s of audio (1024 x 128 fbank -> 64 x 8 = 512 tokens) and 8 x 224 x 224 video
    (4 x 14 x 14 = 784 tokens), 80 % masked: 103 / 157 visible (Sec. 4.2, App. B)."""
    torch.manual_seed(0)
    kwargs = {}
    if target != 'raw':
        stage1 = build(tiny_cfg(img_size=224, audio_rows=1024))
        path = str(tmp_path / 's1.pth')
        save_checkpoint_atomic(dict(state_dict=stage1.state_dict()), path)
        kwargs = dict(target=target, teacher=dict(checkpoint=path))
    model = build(tiny_cfg(img_size=224, audio_rows=1024, **kwargs))
    model.init_weights()
    x = make_inputs(batch=1, img_size=224, audio_rows=1024)
    assert x['mask'].shape == (1, 4, 14, 14) and x['audio_mask'].shape == (1, 64, 8)
    imgs, audio = _flat(x, 'imgs'), _flat(x, 'audio')
    with torch.no_grad():
        feats = model.backbone(imgs, x['mask'], audio, x['audio_mask'])
        preds = model.neck(feats.video_mm, x['mask'], feats.audio_mm, x['audio_mask'])
    assert feats.video_um.shape == feats.video_mm.shape == (1, 157, 96)
    assert feats.audio_um.shape == feats.audio_mm.shape == (1, 103, 96)
    width_v, width_a = (1536, 256) if target == 'raw' else (96, 96)
    assert preds['video'].shape == (1, 627, width_v)
    assert preds['audio'].shape == (1, 409, width_a)
    losses = model(x, mode='loss')
    assert all(torch.isfinite(v) for v in losses.values())
    assert isinstance(model.backbone, MAViLEncoder)
