"""tools/analysis/benchmark.py on tiny settings: the printed table parses and
holds every figure, with ratios consistent with the figures."""
import os.path as osp
import re
import subprocess
import sys

import pytest

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
    assert 'target >= 0.8' in unit
    assert data_ratio == pytest.approx(
        rows[f'{av_data} throughput'][0] / rows[f'{vo_data} throughput'][0], rel=2e-3)
    assert 'device=cpu' in out


def test_video_only_variants():
    pipeline = [dict(type='DecordInit'), dict(type='SampleFrames', clip_len=4),
                dict(type='DecordDecode'), dict(type='LoadAlignedAudio'),
                dict(type='AudioMFCC'), dict(type='Resize', scale=(-1, 256)),
                dict(type='CenterCrop', crop_size=224),
                dict(type='FormatShape', input_format='NCTHW'),
                dict(type='TubeMaskGenerator'), dict(type='PackAVInputs')]
    import mmav_mask  # noqa: F401
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    assert [t['type'] for t in benchmark.video_only_pipeline(pipeline)] == [
        'DecordInit', 'SampleFrames', 'DecordDecode', 'Resize', 'CenterCrop', 'FormatShape',
        'PackActionInputs']
    model = dict(type='AVMaskEnhancer', audio_backbone=dict(type='TalkNetAudioEncoder'),
                 fusion=dict(type='CrossAttentionFusion'))
    vo = benchmark.video_only_model_cfg(model)
    assert vo['fusion'] == dict(type='NoFusion') and vo['audio_backbone'] is None
    assert model['fusion']['type'] == 'CrossAttentionFusion'  # not modified in place
