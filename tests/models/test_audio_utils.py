"""Silent clips stay out of the audio encoder; unused audio parameters stay in the graph."""
import torch
from mmaction.registry import MODELS

from mmav_mask.models.utils.audio import encode_valid_audio, keep_in_graph


def _encoder():
    return MODELS.build(dict(type='TalkNetAudioEncoder', out_dim=16, num_tokens=4))


def test_silent_clips_do_not_touch_batchnorm_and_get_zero_rows():
    torch.manual_seed(0)
    audio = torch.randn(3, 64, 13)
    valid = torch.tensor([True, False, True])
    enc_mixed, enc_valid_only = _encoder(), _encoder()
    enc_valid_only.load_state_dict(enc_mixed.state_dict())
    out = encode_valid_audio(enc_mixed.train(), audio, valid)
    ref = enc_valid_only.train()(audio[valid])
    assert out.shape == (3, 4, 16)
    assert torch.equal(out[1], torch.zeros_like(out[1]))
    torch.testing.assert_close(out[valid], ref)
    # BatchNorm statistics equal those of a run on the clips with audio only
    for (name, a), (_, b) in zip(enc_mixed.named_buffers(), enc_valid_only.named_buffers()):
        torch.testing.assert_close(a, b, msg=name)
    assert encode_valid_audio(enc_mixed, audio, torch.zeros(3, dtype=torch.bool)) is None
    assert encode_valid_audio(enc_mixed, None, valid) is None


def test_all_silent_batch_still_gives_every_audio_parameter_a_gradient():
    model = MODELS.build(dict(
        type='AVMaskEnhancer',
        backbone=dict(type='MaskedVideoViT', img_size=32, num_frames=4,
                      arch=dict(embed_dims=32, depth=1, num_heads=2)),
        audio_backbone=dict(type='TalkNetAudioEncoder', out_dim=32, num_tokens=4),
        fusion=dict(type='CrossAttentionFusion', num_heads=2, dropout=0.0),
        decoder=dict(type='VideoMAEDecoder', embed_dims=16, depth=1, num_heads=2),
        head=dict(type='PixelReconstructionHead')))
    model.train()
    mask = torch.zeros(2, 2, 2, 2, dtype=torch.bool)
    mask[:, :, 0, :] = True
    inputs = dict(imgs=torch.randn(2, 3, 4, 32, 32), mask=mask,
                  audio=torch.zeros(2, 64, 13), audio_valid=torch.zeros(2, dtype=torch.bool))
    model(inputs, mode='loss')['loss_rec'].backward()
    audio_params = list(model.audio_backbone.named_parameters()) + [
        (n, p) for n, p in model.fusion.named_parameters() if 'encoder_to_decoder' not in n]
    assert audio_params
    for name, p in audio_params:
        assert p.grad is not None, name   # DDP would wait for it otherwise
        assert torch.count_nonzero(p.grad) == 0, name


def test_keep_in_graph_leaves_values_unchanged():
    lin = torch.nn.Linear(2, 2)
    x = torch.randn(3)
    assert torch.equal(keep_in_graph(x, lin), x)
    assert keep_in_graph(x) is x
