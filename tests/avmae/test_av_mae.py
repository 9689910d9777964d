"""AVMAE encoders, decoders and objectives: the properties the paper states."""
import pytest
import torch
from mmaction.registry import METRICS, MODELS


def vit_cfgs(depth=2):
    video = dict(type='MaskedVideoViT', img_size=32, num_frames=4,
                 arch=dict(embed_dims=32, depth=depth, num_heads=2))
    audio = dict(type='SpectrogramViT', input_size=(64, 32),
                 arch=dict(embed_dims=32, depth=depth, num_heads=2))
    return video, audio


def build(enc='mid', dec='shared', objective='joint', joint_layers=1, depth=2, seed=0):
    torch.manual_seed(seed)
    video, audio = vit_cfgs(depth)
    return MODELS.build(dict(
        type='AVMAE', objective=objective,
        backbone=dict(type='AVMAEEncoder', fusion=enc, num_joint_layers=joint_layers,
                      video=video, audio=audio),
        neck=dict(type='AVMAEDecoder', fusion=dec,
                  decoder=dict(type='VideoMAEDecoder', embed_dims=16, depth=1, num_heads=2)),
        audio_head=dict(type='SpectrogramReconstructionHead', norm_pix=True)))


def inputs(B=3, valid=(True, True, True), seed=1, audio_rows=64):
    g = torch.Generator().manual_seed(seed)
    mask = torch.zeros(B, 2, 2, 2, dtype=torch.bool)
    mask[:, :, 0] = True                      # 4 of 8 tubelets masked
    amask = torch.zeros(B, audio_rows // 16, 2, dtype=torch.bool)
    amask[:, ::2] = True
    return dict(imgs=torch.randn(B, 1, 3, 4, 32, 32, generator=g), mask=mask,
                audio=torch.randn(B, 1, audio_rows, 32, generator=g), audio_mask=amask,
                audio_valid=torch.tensor(valid[:B]))


def test_mid_fusion_with_zero_joint_layers_is_separate():
    sep = build('separate', 'shared').eval()
    mid0 = build('mid', 'shared', joint_layers=0, seed=1).eval()
    mid0.load_state_dict(sep.state_dict(), strict=True)   # same parameter set
    x = inputs()
    out_sep, out_mid = sep(x, mode='tensor'), mid0(x, mode='tensor')
    for key in ('video', 'audio'):
        torch.testing.assert_close(out_mid[key], out_sep[key], rtol=0, atol=0)
    # with one joint layer the modalities mix and the outputs move
    mid1 = build('mid', 'shared', joint_layers=1, seed=1).eval()
    mid1.load_state_dict(sep.state_dict(), strict=False)
    assert not torch.allclose(mid1(x, mode='tensor')['video'], out_sep['video'])


def test_shared_encoder_has_one_parameter_set():
    shared, sep = build('shared', 'separate'), build('separate', 'shared')
    enc_s, enc_p = shared.backbone, sep.backbone
    for i in range(2):
        assert enc_s.audio_layers()[i] is enc_s.video.blocks[i]
        assert enc_p.audio_layers()[i] is not enc_p.video.blocks[i]
    assert enc_s.audio_norm() is enc_s.video.norm
    # every parameter has one name (mmengine's optimizer constructor needs it)
    assert len(list(shared.named_parameters())) == len({id(p) for p in shared.parameters()})

    def count(m):
        return sum(p.numel() for p in m.parameters())
    transformer = count(enc_p.audio.blocks) + count(enc_p.audio.norm)
    assert count(enc_s) == count(enc_p) - transformer
    # a step on the audio loss alone moves the (one) transformer used by video
    opt = torch.optim.SGD(shared.parameters(), lr=0.1)
    before = enc_s.video.blocks[0].attn.qkv.weight.detach().clone()
    shared(inputs(), mode='loss')['loss_audio'].backward()
    opt.step()
    assert not torch.equal(before, enc_s.video.blocks[0].attn.qkv.weight)


def test_early_fusion_on_video_alone_is_the_video_path():
    model = build('early', 'shared').eval()
    x = inputs()
    imgs, mask = x['imgs'][:, 0], x['mask']
    plain = model.backbone.video(imgs, mask)                 # MaskedVideoViT.forward
    alone, none = model.backbone(imgs, mask, None, None)
    assert none is None
    torch.testing.assert_close(alone, plain, rtol=0, atol=0)
    with_audio, _ = model.backbone(imgs, mask, x['audio'][:, 0], x['audio_mask'])
    assert not torch.allclose(with_audio, plain, atol=1e-4)  # the audio does enter


def test_clip_without_audio_does_not_see_its_audio():
    """Early fusion: a clip with audio_valid False gets video tokens that do not
    depend on its (placeholder) audio, in the encoder and the early decoder."""
    model = build('early', 'early').eval()
    x = inputs(valid=(True, False, True))
    y = {k: v.clone() for k, v in x.items()}
    y['audio'][1] = torch.randn_like(y['audio'][1]) * 10
    a, b = model(x, mode='tensor'), model(y, mode='tensor')
    torch.testing.assert_close(a['video'][1], b['video'][1], rtol=1e-5, atol=1e-5)
    z = {k: v.clone() for k, v in x.items()}
    z['audio'][0] = torch.randn_like(z['audio'][0]) * 10   # a clip WITH audio: it enters
    assert not torch.allclose(model(z, mode='tensor')['video'][0], a['video'][0], atol=1e-4)
    # its audio loss is left out: the loss does not change with its audio
    la, lb = model(x, mode='loss')['loss_audio'], model(y, mode='loss')['loss_audio']
    assert la.item() == pytest.approx(lb.item(), rel=1e-5)


@pytest.mark.parametrize('enc,dec', [('early', 'shared'), ('mid', 'separate')])
def test_inpainting_loss_touches_only_target_mask_tokens(enc, dec):
    """inpaint_video: decoder sequence [encoded audio, video mask tokens]; the loss
    has gradient only on the mask tokens' outputs, none on the video's own encoded
    tokens (video_proj), none on the audio side of the decoder."""
    model = build(enc, dec, objective='inpaint_video')
    captured = {}

    def keep(module, args, out):
        out.retain_grad()
        captured['feats'] = out
    model.neck.video_decoder.norm.register_forward_hook(keep)
    x = inputs()
    losses = model(x, mode='loss')
    assert set(losses) == {'loss_video'}
    losses['loss_video'].backward()
    grad = captured['feats'].grad                  # (B, N_audio_vis + N_video_mask, D)
    n_audio_vis = int((~x['audio_mask'][0]).sum())
    n_video_mask = int(x['mask'][0].sum())
    assert grad.shape[1] == n_audio_vis + n_video_mask
    assert grad[:, :n_audio_vis].abs().max() == 0
    assert (grad[:, n_audio_vis:].abs().sum(-1) > 0).all()
    assert model.neck.video_proj.weight.grad is None          # encoded video unused
    assert model.neck.audio_mask_token.grad is None
    assert model.neck.video_mask_token.grad.abs().sum() > 0
    assert model.neck.audio_proj.weight.grad.abs().sum() > 0  # audio is the source
    # the video encoder still learns: its tokens reach the audio through joint layers
    assert model.backbone.video.patch_embed.proj.weight.grad.abs().sum() > 0


def test_inpaint_both_has_two_equal_weight_losses():
    model = build('early', 'separate', objective='inpaint_both')
    losses = model(inputs(), mode='loss')
    assert set(losses) == {'loss_video', 'loss_audio'}


@pytest.mark.parametrize('enc,joint', [('separate', 1), ('shared', 1), ('mid', 0)])
def test_inpainting_refused_without_cross_modal_encoder(enc, joint):
    with pytest.raises(ValueError, match='cross-modal encoder'):
        build(enc, 'shared', objective='inpaint_video', joint_layers=joint)


def test_refused_combinations():
    with pytest.raises(ValueError, match='two uncoupled masked autoencoders'):
        build('separate', 'separate')
    with pytest.raises(ValueError, match="cannot use decoder 'early'"):
        build('early', 'early', objective='inpaint_audio')
    with pytest.raises(ValueError, match='equal sizes'):
        MODELS.build(dict(type='AVMAEEncoder', fusion='shared', video=vit_cfgs(2)[0],
                          audio=vit_cfgs(1)[1]))


@pytest.mark.parametrize('enc,dec', [('separate', 'shared'), ('shared', 'separate'),
                                     ('early', 'early'), ('mid', 'shared')])
def test_joint_reconstruction_losses_and_metric(enc, dec):
    model = build(enc, dec)
    losses = model(inputs(), mode='loss')
    assert set(losses) == {'loss_video', 'loss_audio'}
    sum(losses.values()).backward()
    unused = [n for n, p in model.named_parameters() if p.grad is None]
    assert len(list(model.named_parameters())) == len({id(p) for p in model.parameters()})
    assert unused == []   # no dead parameters (DDP without find_unused_parameters)
    preds = model.eval()(inputs(), mode='predict')
    metric = METRICS.build(dict(type='AVReconstructionMetric'))
    metric.process({}, [p.to_dict() for p in preds])
    res = metric.evaluate(3)
    assert set(res) >= {'rec/masked_mse', 'rec/psnr', 'rec/audio_masked_mse'}
    assert res['rec/audio_masked_mse'] == pytest.approx(
        sum(p.rec_audio_mse.item() for p in preds) / 3, rel=1e-6)


@pytest.mark.parametrize('seconds', [8, 10])
def test_shapes_for_8_and_10_seconds(seconds):
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='AVMAE',
        backbone=dict(type='AVMAEEncoder', fusion='mid', num_joint_layers=1,
                      video=dict(type='MaskedVideoViT', img_size=32, num_frames=4,
                                 arch=dict(embed_dims=32, depth=2, num_heads=2)),
                      audio=dict(type='SpectrogramViT', input_size=(800, 128),
                                 arch=dict(embed_dims=32, depth=2, num_heads=2))),
        neck=dict(type='AVMAEDecoder',
                  decoder=dict(type='VideoMAEDecoder', embed_dims=16, depth=1, num_heads=2))))
    rows = seconds * 100
    grid = (rows // 16, 8)
    amask = torch.zeros(2, *grid, dtype=torch.bool).flatten(1)
    amask[:, :amask.shape[1] // 2] = True
    x = dict(imgs=torch.randn(2, 1, 3, 4, 32, 32), mask=torch.ones(2, 2, 2, 2, dtype=torch.bool),
             audio=torch.randn(2, 1, rows, 128), audio_mask=amask.view(2, *grid))
    x['mask'][:, :, 0, 0] = False
    out = model(x, mode='tensor')
    assert out['video'].shape == (2, 6, 3 * 2 * 16 * 16)
    assert out['audio'].shape == (2, grid[0] * grid[1] // 2, 256)
    assert torch.isfinite(model(x, mode='loss')['loss_audio'])
