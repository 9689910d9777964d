"""tools/analysis/benchmark.py on tiny settings: the printed table parses and
holds every figure, with ratios consistent with the figures."""
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis'))
import benchmark  # noqa: E402

CONFIG = '''
default_scope = 'mmaction'
custom_imports = dict(imports=['mmav_mask'], allow_failed_imports=False)
data_root = {root!r}
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1),
    dict(type='LoadAlignedAudio'),
    dict(type='DecordDecode'),
    dict(type='AudioMFCC', num_rows=16),
    dict(type='Resize', scale=(-1, 40)),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='TubeMaskGenerator', mask_ratio=0.5),
    dict(type='PackAVInputs'),
]
train_dataloader = dict(
    batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='AVVideoDataset', ann_file=data_root + '/ucf101_train_split_1_videos.txt',
                 data_prefix=dict(video=data_root + '/videos'), pipeline=train_pipeline))
model = dict(
    type='AVMaskEnhancer',
    data_preprocessor=dict(type='AVDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375]),
    backbone=dict(type='MaskedVideoViT', img_size=32, num_frames=4,
                  arch=dict(embed_dims=32, depth=2, num_heads=2)),
    audio_backbone=dict(type='TalkNetAudioEncoder', out_dim=32, num_tokens=4,
                        layers=(1, 1, 1, 1), widths=(4, 8, 8, 16)),
    fusion=dict(type='CrossAttentionFusion', num_heads=2),
    decoder=dict(type='VideoMAEDecoder', embed_dims=16, depth=1, num_heads=2))
optim_wrapper = dict(type='AmpOptimWrapper', dtype='bfloat16',
                     optimizer=dict(type='AdamW', lr=1e-4))
'''

ROW = re.compile(r'^\| (?P<name>[^|]+?) \| (?P<value>[-+0-9.eE]+|nan|inf) \| (?P<unit>[^|]+?) \|$')


def parse_table(text):
    rows = {}
    for line in text.splitlines():
        m = ROW.match(line.strip())
        if m:
            rows[m['name']] = (float(m['value']), m['unit'])
    return rows


@pytest.fixture(scope='module')
def tiny_config(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('bench')
    root = str(tmp / 'demo')
    subprocess.run([sys.executable, osp.join(REPO, 'tools', 'data', 'make_demo_dataset.py'),
                    '--out', root, '--num-classes', '1', '--clips-per-class', '3',
                    '--size', '40', '--duration', '1'], check=True, capture_output=True)
    path = tmp / 'tiny.py'
    path.write_text(CONFIG.format(root=root))
    return str(path)


def test_benchmark_table(tiny_config, capsys):
    assert benchmark.main([tiny_config, '--batch-size', '2', '--iters', '2', '--warmup', '1',
                           '--repeats', '2', '--data-samples', '2', '--device', 'cpu']) == 0
    out = capsys.readouterr().out
    rows = parse_table(out)
    av_model = 'model AV (CrossAttentionFusion)'
    vo_model = 'model video-only (NoFusion)'
    av_data, vo_data = 'data AV pipeline', 'data video-only pipeline (MMAction2)'
    for name in (av_model, vo_model, av_data, vo_data):
        value, unit = rows[f'{name} throughput']
        assert unit == 'clips/s' and value > 0, name
    for name in (av_model, vo_model):
        value, unit = rows[f'{name} peak memory']
        assert unit.startswith('MiB') and value >= 0
    model_ratio, unit = rows['model AV / video-only throughput']
    assert 'target >= 0.85' in unit
    expected = rows[f'{av_model} throughput'][0] / rows[f'{vo_model} throughput'][0]
    assert model_ratio == pytest.approx(expected, rel=2e-3)
    data_ratio, unit = rows['data AV / video-only throughput']
    assert 'target >= 0.9' in unit  # main process (--data-workers 0)
    assert data_ratio == pytest.approx(
        rows[f'{av_data} throughput'][0] / rows[f'{vo_data} throughput'][0], rel=2e-3)
    assert 'device=cpu' in out


def test_video_only_variants():
    pipeline = [dict(type='SafeDecordInit'), dict(type='SampleFrames', clip_len=4),
                dict(type='DecordDecode'), dict(type='LoadAlignedAudio'),
                dict(type='AudioMFCC'), dict(type='Resize', scale=(-1, 256)),
                dict(type='CenterCrop', crop_size=224),
                dict(type='FormatShape', input_format='NCTHW'),
                dict(type='TubeMaskGenerator'), dict(type='PackAVInputs')]
    import mmav_mask  # noqa: F401
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    assert [t['type'] for t in benchmark.video_only_pipeline(pipeline)] == [
        'SafeDecordInit', 'SampleFrames', 'DecordDecode', 'Resize', 'CenterCrop',
        'FormatShape', 'PackActionInputs']
    model = dict(type='AVMaskEnhancer', audio_backbone=dict(type='TalkNetAudioEncoder'),
                 fusion=dict(type='CrossAttentionFusion'))
    vo = benchmark.video_only_model_cfg(model)
    assert vo['fusion'] == dict(type='NoFusion') and vo['audio_backbone'] is None
    assert model['fusion']['type'] == 'CrossAttentionFusion'  # not modified in place


GRID_ROW = re.compile(r'^\| (\d+) \| ([0-9.]+) \| (\d+) \|(.*)\|$')


def test_grid_table(tiny_config, capsys):
    """--grid: one row per cell, the ratio is AV / video-only step time, FLOPs
    scale with the batch (ground truth: the step is per-sample work) and the
    audio path adds FLOPs."""
    assert benchmark.main([tiny_config, '--grid', '--grid-masks', '0.5', '0.75',
                           '--grid-frames', '2', '4', '--grid-batches', '1', '2',
                           '--iters', '1', '--warmup', '1', '--repeats', '1',
                           '--device', 'cpu']) == 0
    out = capsys.readouterr().out
    cells = {}
    for line in out.splitlines():
        m = GRID_ROW.match(line.strip())
        if m:
            vals = [float(v) for v in m[4].split('|')]
            cells[(int(m[1]), float(m[2]), int(m[3]))] = vals
    assert sorted(cells) == [(f, m, b) for f in (2, 4) for m in (0.5, 0.75) for b in (1, 2)]
    for (frames, mask, batch), (av_s, vo_s, ratio, cpu_ratio, av_gf, vo_gf, av_tf,
                                vo_tf) in cells.items():
        assert ratio == pytest.approx(av_s / vo_s, rel=2e-3)
        assert cpu_ratio > 0
        assert av_gf > vo_gf > 0
        assert av_tf == pytest.approx(av_gf / 1e3 / av_s, rel=2e-2, abs=1e-4)
    for frames in (2, 4):
        for mask in (0.5, 0.75):
            one, two = cells[(frames, mask, 1)], cells[(frames, mask, 2)]
            assert two[4] == pytest.approx(2 * one[4], rel=1e-3)   # AV GFLOP
            assert two[5] == pytest.approx(2 * one[5], rel=1e-3)   # video-only GFLOP
        # more frames, more tokens: more work
        assert cells[(4, 0.5, 1)][5] > cells[(2, 0.5, 1)][5]
    assert 'target <= 1.15' in out


def test_grid_model_cfg_scales_audio_tokens():
    model = dict(type='AVMaskEnhancer', backbone=dict(type='MaskedVideoViT', num_frames=16),
                 audio_backbone=dict(type='TalkNetAudioEncoder', num_tokens=16))
    cfg = benchmark.grid_model_cfg(model, 8)
    assert cfg['backbone']['num_frames'] == 8 and cfg['audio_backbone']['num_tokens'] == 8
    assert model['backbone']['num_frames'] == 16  # not modified in place
    assert benchmark._grid_audio_rows([dict(type='AudioMFCC', num_rows=256)], 8, 16) == 128


def test_flop_counter_known_answers():
    """Hand-counted FLOPs (2 per multiply-add). Linear 8 -> 4 on 3 rows:
    forward 2*3*8*4 = 192, backward grad-input + grad-weight 2 * 192.
    Attention q (1, 2, 5, 4), k / v (1, 2, 7, 4): forward QK^T + PV =
    2 * (2*2*5*7*4) = 1120; backward as PyTorch counts flash kernels (scores
    recomputed, then dV, dP, dQ, dK) = 5 * 560 = 2800. On CPU the attention
    runs PyTorch's CPU flash kernel, which the stock counter does not know."""
    import torch.nn.functional as F
    torch.manual_seed(0)
    lin = torch.nn.Linear(8, 4)
    x = torch.randn(3, 8, requires_grad=True)
    with benchmark.flop_counter() as counter:
        lin(x).sum().backward()
    assert counter.get_total_flops() == 192 * 3
    q = torch.randn(1, 2, 5, 4, requires_grad=True)
    k = torch.randn(1, 2, 7, 4, requires_grad=True)
    v = torch.randn(1, 2, 7, 4, requires_grad=True)
    with benchmark.flop_counter() as counter, benchmark.SdpaRecorder() as rec:
        F.scaled_dot_product_attention(q, k, v).sum().backward()
    assert rec.counts() == {'flash (CPU)': 1}
    assert counter.get_total_flops() == 1120 + 2800


def test_sdpa_recorder_math_fallback():
    """The math path leaves no fused kernel: a call without one is 'math'."""
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel
    q = torch.randn(1, 2, 5, 4)
    with benchmark.SdpaRecorder() as rec, sdpa_kernel(SDPBackend.MATH):
        F.scaled_dot_product_attention(q, q, q)
        F.scaled_dot_product_attention(q, q, q)
    assert rec.counts() == {'math': 2}
    assert benchmark.summarise_sdpa(3, [
        'aten::_scaled_dot_product_flash_attention',
        'aten::_scaled_dot_product_flash_attention_backward',  # backward: not a call
        'aten::_scaled_dot_product_efficient_attention', 'aten::mm']) == {
            'flash': 1, 'memory-efficient': 1, 'math': 1}
    assert benchmark.summarise_sdpa(0, []) == {}
    assert benchmark.format_sdpa({'math': 2, 'flash': 1}) == 'flash x1, math x2'


def test_mfu_arithmetic_and_peaks():
    """Device names as torch.cuda.get_device_name() prints them; dense bf16
    peaks from NVIDIA's data sheets (A100 312, H100 SXM 989, H100 PCIe 756,
    H200 989 TFLOP/s)."""
    peak = benchmark.bf16_peak_flops
    assert peak('NVIDIA A100-SXM4-80GB') == 312e12
    assert peak('NVIDIA A100 80GB PCIe') == 312e12
    assert peak('NVIDIA H100 80GB HBM3') == 989e12
    assert peak('NVIDIA H100 PCIe') == 756e12
    assert peak('NVIDIA H200') == 989e12
    assert peak('NVIDIA GeForce RTX 4090') is None
    # 494.5 TFLOP in 1 s on a 989 TFLOP/s device: 50 %
    assert benchmark.model_flops_utilisation(494.5e12, 1.0, 989e12) == pytest.approx(0.5)
    # 226 GFLOP per step in 0.5 s: 452 GFLOP/s
    assert benchmark.achieved_flops(226e9, 0.5) == pytest.approx(452e9)
    with pytest.raises(ValueError, match='step time'):
        benchmark.achieved_flops(1.0, 0.0)
    with pytest.raises(ValueError, match='peak'):
        benchmark.model_flops_utilisation(1.0, 1.0, 0.0)
