"""MBT bottleneck exchange: the streams meet only through the bottleneck tokens."""
import pytest
import torch

from mmav_mask.models.layers import Block, BottleneckExchange


def _streams(depth=2, dim=16, seed=0):
    torch.manual_seed(seed)
    fusion = BottleneckExchange(dim, num_tokens=4)
    vb = torch.nn.ModuleList(Block(dim, 2) for _ in range(depth))
    ab = torch.nn.ModuleList(Block(dim, 2) for _ in range(depth))
    return fusion, vb, ab


def test_video_depends_on_audio_only_through_bottlenecks():
    fusion, vb, ab = _streams()
    v, a = torch.randn(2, 5, 16), torch.randn(2, 7, 16)
    out_v, _ = fusion(v, a, vb, ab)
    # A different audio changes the video output...
    out_v2, _ = fusion(v, a + torch.randn_like(a), vb, ab)
    assert (out_v - out_v2).abs().max() > 1e-3
    # ...and replaying the video stream with the recorded bottleneck inputs of each
    # layer reproduces it exactly: nothing else carried audio across.
    z = fusion.tokens.expand(2, -1, -1)
    x = v
    record = []
    h_v, h_a, zz = v, a, z
    for bv, ba in zip(vb, ab):
        record.append(zz)
        yv, ya = bv(torch.cat([h_v, zz], 1)), ba(torch.cat([h_a, zz], 1))
        h_v, h_a, zz = yv[:, :5], ya[:, :7], (yv[:, 5:] + ya[:, 7:]) / 2
    for bv, zin in zip(vb, record):
        x = bv(torch.cat([x, zin], 1))[:, :5]
    torch.testing.assert_close(x, out_v, rtol=0, atol=0)


def test_no_bottleneck_tokens_means_no_exchange():
    torch.manual_seed(0)
    fusion = BottleneckExchange(16, num_tokens=0)
    vb = torch.nn.ModuleList(Block(16, 2) for _ in range(2))
    ab = torch.nn.ModuleList(Block(16, 2) for _ in range(2))
    v, a = torch.randn(2, 5, 16), torch.randn(2, 7, 16)
    out1, _ = fusion(v, a, vb, ab)
    out2, _ = fusion(v, torch.randn_like(a), vb, ab)
    torch.testing.assert_close(out1, out2, rtol=0, atol=0)


def test_clip_without_audio_ignores_the_audio_stream():
    fusion, vb, ab = _streams()
    v, a = torch.randn(2, 5, 16), torch.randn(2, 7, 16)
    valid = torch.tensor([True, False])
    out1, _ = fusion(v, a, vb, ab, audio_valid=valid)
    out2, _ = fusion(v, torch.randn_like(a), vb, ab, audio_valid=valid)
    assert (out1[0] - out2[0]).abs().max() > 1e-3  # real audio is heard
    torch.testing.assert_close(out1[1], out2[1], rtol=0, atol=0)  # silent clip is not


def test_refuses_unpaired_layers_and_widths():
    fusion, vb, ab = _streams()
    with pytest.raises(ValueError, match='pairs layers'):
        fusion(torch.randn(1, 5, 16), torch.randn(1, 7, 16), vb, ab[:1])
    with pytest.raises(ValueError, match='width 16'):
        fusion(torch.randn(1, 5, 16), torch.randn(1, 7, 8), vb, ab)
