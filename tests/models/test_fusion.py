"""Fusion modules: exact NoFusion behaviour without audio, audio effect with it,
mixed batches, gradients into the audio path, no NaN, exact time alignment."""
import pytest
import torch
from mmaction.registry import MODELS

from mmav_mask.models.necks import NoFusion
from mmav_mask.models.necks.fusion_utils import align_audio_to_video, valid_audio

B, DV, DDEC, HEADS = 4, 32, 16, 4
T_SLICES, PER_SLICE, T_AUDIO = 4, 3, 8  # 4 tubelet slices, 3 visible tokens each, 8 audio tokens
N = T_SLICES * PER_SLICE
FUSIONS = ['CrossAttentionFusion', 'ConcatFusion', 'DecoderAllTokensFusion']


def _build(name: str, audio_dim: int = DV) -> torch.nn.Module:
    torch.manual_seed(0)
    kwargs = dict(type=name, video_dim=DV, decoder_dim=DDEC, audio_dim=audio_dim)
    if name != 'ConcatFusion':
        kwargs['num_heads'] = HEADS
    return MODELS.build(kwargs).eval()


def _twin_no_fusion(fusion: torch.nn.Module) -> NoFusion:
    """NoFusion with the AV fusion's shared weights (encoder_to_decoder)."""
    base = NoFusion(DV, DDEC).eval()
    result = base.load_state_dict(fusion.state_dict(), strict=False)
    assert not result.missing_keys
    return base


def _inputs(seed: int = 0, audio_dim: int = DV):
    """Visible tokens in a shuffled order per sample (as after masking), their slice
    index, and audio tokens."""
    g = torch.Generator().manual_seed(seed)
    video = torch.randn(B, N, DV, generator=g)
    slices = torch.arange(T_SLICES).repeat_interleave(PER_SLICE)
    video_time = torch.stack([slices[torch.randperm(N, generator=g)] for _ in range(B)])
    audio = torch.randn(B, T_AUDIO, audio_dim, generator=g)
    return video, video_time, audio


def _run(fusion, video, video_time, audio, audio_valid):
    """forward_visible then forward_decoder (what the algorithm calls)."""
    x = fusion.forward_visible(video, video_time, audio, audio_valid, T_SLICES)
    return fusion.forward_decoder(x, video_time, audio, audio_valid, T_SLICES)


# ---------------------------------------------------------------- time alignment

def test_align_audio_to_video_exact():
    """Token at slice s receives the mean of the audio rows of slice s only."""
    rows = torch.zeros(B, T_AUDIO, 5)
    per = T_AUDIO // T_SLICES
    for k in range(T_AUDIO):
        rows[:, k] = 10.0 * (k // per) + (k % per)  # slice s -> values 10 s, 10 s + 1
    rows += torch.arange(B)[:, None, None] * 1000.0  # per-sample offset
    _, video_time, _ = _inputs()
    aligned = align_audio_to_video(rows, video_time, T_SLICES)
    expected = 10.0 * video_time + 0.5 + torch.arange(B)[:, None] * 1000.0
    assert aligned.shape == (B, N, 5)
    torch.testing.assert_close(aligned, expected[..., None].expand(-1, -1, 5), rtol=0, atol=0)


def test_valid_audio():
    audio = torch.randn(3, 2, 4)
    assert valid_audio(None, torch.ones(3, dtype=torch.bool)) is None
    assert valid_audio(audio, None).tolist() == [True] * 3
    assert valid_audio(audio, torch.zeros(3, dtype=torch.bool)) is None
    assert valid_audio(audio, torch.tensor([1, 0, 1])).tolist() == [True, False, True]
    with pytest.raises(ValueError):
        valid_audio(audio, torch.ones(2, dtype=torch.bool))


def _slice_rows(s: int) -> slice:
    per = T_AUDIO // T_SLICES
    return slice(s * per, (s + 1) * per)


@pytest.mark.parametrize('name', ['CrossAttentionFusion', 'DecoderAllTokensFusion'])
def test_audio_query_rows_reach_own_slice_only(name):
    """T_a->v (one row per audio token) lands on the tokens of its own slice only:
    changing the audio of slice s changes the aligned context exactly there."""
    fusion = _build(name)
    video, video_time, audio = _inputs()
    if name == 'DecoderAllTokensFusion':
        video = torch.randn(B, N, DDEC)
    with torch.no_grad():
        _, ref = fusion.audio_context(video, video_time, audio, T_SLICES)
        for s in range(T_SLICES):
            crafted = audio.clone()
            crafted[:, _slice_rows(s)] += 3.0
            _, out = fusion.audio_context(video, video_time, crafted, T_SLICES)
            changed = (out - ref).abs().amax(-1) > 1e-4
            assert torch.equal(changed, video_time == s), s


def test_concat_fusion_reaches_own_slice_only():
    fusion = _build('ConcatFusion')
    video, video_time, audio = _inputs()
    with torch.no_grad():
        ref = fusion.forward_visible(video, video_time, audio, None, T_SLICES)
        for s in range(T_SLICES):
            crafted = audio.clone()
            crafted[:, _slice_rows(s)] = torch.randn(B, T_AUDIO // T_SLICES, DV)
            out = fusion.forward_visible(video, video_time, crafted, None, T_SLICES)
            changed = (out - ref).abs().amax(-1) > 1e-5
            assert torch.equal(changed, video_time == s), s


def test_concat_fusion_is_the_concatenation():
    """[video, aligned audio] @ [W_v; W_a] with audio = LN(mean of its slice's tokens)."""
    fusion = _build('ConcatFusion')
    video, video_time, audio = _inputs()
    with torch.no_grad():
        out = fusion.forward_visible(video, video_time, audio, None, T_SLICES)
        per = T_AUDIO // T_SLICES
        normed = fusion.audio_norm(audio)
        slice_mean = normed.reshape(B, T_SLICES, per, DV).mean(2)
        aligned = torch.stack([slice_mean[b, video_time[b]] for b in range(B)])
        weight = torch.cat([fusion.encoder_to_decoder.weight,
                            fusion.audio_to_decoder.weight], dim=1)
        expected = torch.cat([video, aligned], -1) @ weight.t()
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------- validity and NoFusion

@pytest.mark.parametrize('name', FUSIONS)
def test_no_audio_equals_no_fusion(name):
    fusion = _build(name)
    base = _twin_no_fusion(fusion)
    video, video_time, audio = _inputs()
    with torch.no_grad():
        expected = _run(base, video, video_time, None, None)
        invalid = torch.zeros(B, dtype=torch.bool)
        assert torch.equal(_run(fusion, video, video_time, audio, invalid), expected)
        assert torch.equal(_run(fusion, video, video_time, None, None), expected)
        assert torch.equal(_run(fusion, video, video_time, None, ~invalid), expected)


@pytest.mark.parametrize('name', FUSIONS)
def test_mixed_batch(name):
    """Invalid samples equal NoFusion exactly; valid samples are changed by audio."""
    fusion = _build(name)
    base = _twin_no_fusion(fusion)
    video, video_time, audio = _inputs()
    valid = torch.tensor([True, False, True, False])
    with torch.no_grad():
        expected = _run(base, video, video_time, None, None)
        out = _run(fusion, video, video_time, audio, valid)
        all_valid = _run(fusion, video, video_time, audio, None)
    assert out.shape == expected.shape == (B, N, DDEC)
    assert torch.equal(out[~valid], expected[~valid])
    assert (out[valid] - expected[valid]).abs().amax() > 1e-3
    # a sample's result does not depend on the other samples' validity
    torch.testing.assert_close(out[valid], all_valid[valid], rtol=1e-5, atol=1e-6)
    # and the audio really is used: other audio, other output
    with torch.no_grad():
        other = _run(fusion, video, video_time, torch.randn_like(audio), valid)
    assert (other[valid] - out[valid]).abs().amax() > 1e-3
    assert torch.equal(other[~valid], out[~valid])


@pytest.mark.parametrize('name', FUSIONS)
def test_gradients_flow_to_audio_and_no_nan(name):
    """Training mode (dropout on); the invalid sample's audio is NaN garbage
    and must neither leak into the output nor into any gradient."""
    fusion = _build(name).train()
    video, video_time, audio = _inputs()
    audio[1] = float('nan')
    video.requires_grad_(True)
    audio.requires_grad_(True)
    valid = torch.tensor([True, False, True, True])
    out = _run(fusion, video, video_time, audio, valid)
    assert torch.isfinite(out).all()
    out.square().mean().backward()
    assert torch.isfinite(audio.grad).all() and torch.isfinite(video.grad).all()
    assert audio.grad[valid].abs().sum() > 0
    assert audio.grad[~valid].abs().sum() == 0
    audio_params = [(n, p) for n, p in fusion.named_parameters()
                    if not n.startswith('encoder_to_decoder')]
    assert audio_params
    for n, p in audio_params:
        assert p.grad is not None and torch.isfinite(p.grad).all(), n
    assert any(p.grad.abs().sum() > 0 for _, p in audio_params)
    if name != 'DecoderAllTokensFusion':
        assert fusion.audio_to_decoder.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('name', ['CrossAttentionFusion', 'ConcatFusion'])
def test_audio_width_differs_from_video(name):
    fusion = _build(name, audio_dim=24)
    base = _twin_no_fusion(fusion)
    video, video_time, audio = _inputs(audio_dim=24)
    valid = torch.tensor([True, False, True, True])
    with torch.no_grad():
        out = _run(fusion, video, video_time, audio, valid)
        expected = _run(base, video, video_time, None, None)
    assert out.shape == (B, N, DDEC)
    assert torch.equal(out[1], expected[1])


def test_decoder_all_tokens_fuses_only_in_decoder():
    """forward_visible is NoFusion's; forward_decoder fuses visible + mask tokens
    of any length (no hard-coded sizes)."""
    fusion = _build('DecoderAllTokensFusion')
    base = _twin_no_fusion(fusion)
    video, video_time, audio = _inputs()
    with torch.no_grad():
        assert torch.equal(fusion.forward_visible(video, video_time, audio, None, T_SLICES),
                           base.forward_visible(video, video_time))
        for n_all in (N, 3 * N + 1):
            tokens = torch.randn(B, n_all, DDEC)
            token_time = torch.randint(0, T_SLICES, (B, n_all))
            out = fusion.forward_decoder(tokens, token_time, audio,
                                         torch.tensor([True, True, False, True]), T_SLICES)
            assert out.shape == tokens.shape and torch.isfinite(out).all()
            assert torch.equal(out[2], tokens[2])
            assert (out[0] - tokens[0]).abs().amax() > 1e-3


def test_cross_attention_both_directions_from_original_streams():
    """T_v->a rows: one per video token, attending over the audio; the audio-query
    branch attends over the ORIGINAL video tokens (not over T_v->a)."""
    fusion = _build('CrossAttentionFusion')
    video, video_time, audio = _inputs()
    with torch.no_grad():
        t_va, t_av = fusion.audio_context(video, video_time, audio, T_SLICES)
        assert t_va.shape == t_av.shape == (B, N, DV)
        torch.testing.assert_close(t_va, fusion.cross_v2a(video, audio))
        rows = fusion.cross_a2v(audio, video)
        assert rows.shape == (B, T_AUDIO, DV)
        torch.testing.assert_close(t_av, align_audio_to_video(rows, video_time, T_SLICES))
        # the paper's concat-then-linear equals the split form used in the module
        out = fusion.forward_visible(video, video_time, audio, None, T_SLICES)
        weight = torch.cat([fusion.encoder_to_decoder.weight,
                            fusion.audio_to_decoder.weight], dim=1)
        torch.testing.assert_close(out, torch.cat([t_va, t_av], -1) @ weight.t(),
                                   rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('name', FUSIONS)
def test_autocast_bfloat16(name):
    """Runs under autocast (the AMP path; CPU bfloat16 here) without NaN."""
    fusion = _build(name)
    video, video_time, audio = _inputs()
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        out = _run(fusion, video, video_time, audio, torch.tensor([True, False, True, True]))
    assert out.shape == (B, N, DDEC) and torch.isfinite(out.float()).all()
