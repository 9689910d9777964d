"""tools/analysis/fusion_ablation.py on a tiny budget: every variant and audio
mode gives finite object and background figures, the video-only row has no
audio, the swapped / no-audio evaluations really change the audio, and all
variants of a seed see identical data."""
import json
import math
import os.path as osp
import sys

import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis'))
import fusion_ablation  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def ablation(tmp_path_factory):
    work = tmp_path_factory.mktemp('fusion_ablation')
    # no --data-root: the tool generates a small demo dataset in the work dir
    result = fusion_ablation.main([
        '--work-dir', str(work), '--iters', '3', '--batch-size', '2', '--eval-clips', '1',
        '--num-classes', '2', '--clips-per-class', '3', '--duration', '1.5',
        '--num-workers', '0', '--seeds', '0', '1',
        '--variants', 'cross_attention', 'none', 'oracle'])
    return work, result


def test_rows_cover_every_variant_seed_and_mode(ablation):
    work, result = ablation
    rows = {(r['variant'], r['seed']): r for r in result['rows']}
    assert sorted(rows) == sorted((v, s) for v in ('cross_attention', 'none', 'oracle')
                                  for s in (0, 1))
    for (variant, _), row in rows.items():
        modes = ('matched', ) if variant == 'none' else fusion_ablation.AUDIO_MODES
        assert [m for m in fusion_ablation.AUDIO_MODES if m in row] == list(modes)
        for mode in modes:
            for key in ('object_masked_mse', 'background_masked_mse', 'masked_mse'):
                assert math.isfinite(row[mode][key]) and row[mode][key] > 0, (variant, mode)
            assert 0.15 < row[mode]['object_share'] < 0.8
    assert rows[('none', 0)]['audio_params'] == 0 and rows[('none', 0)]['audio_encoder'] is None
    assert rows[('cross_attention', 0)]['audio_encoder'] == 'TalkNetAudioEncoder'
    assert rows[('oracle', 0)]['audio_encoder'] == 'DemoParamEncoder'
    # the summary: ratio to 'none' of the same seed is exactly 1 for 'none'
    summary = {(e['variant'], e['audio']): e for e in result['summary']}
    assert summary[('none', 'matched')]['object_ratio'] == pytest.approx((1.0, 0.0))
    assert summary[('cross_attention', 'swapped')]['seeds'] == [0, 1]
    saved = json.load(open(osp.join(work, 'fusion_ablation.json')))
    assert saved['table'] == result['table']
    md = open(osp.join(work, 'fusion_ablation.md')).read()
    assert '| raw | cross_attention | swapped |' in md and '| raw | none | matched |' in md
    assert osp.getsize(osp.join(work, 'fusion_ablation.png')) > 1000


def test_audio_modes_change_the_prediction(ablation):
    """Swapped and missing audio change an audio model's figures; the
    no-audio figures are those of the model's own video-only path."""
    _, result = ablation
    row = next(r for r in result['rows'] if r['variant'] == 'cross_attention')
    m, s, n = (row[k]['masked_mse'] for k in ('matched', 'swapped', 'no_audio'))
    assert m != s and m != n


def test_same_data_and_budget(ablation):
    _, result = ablation
    setup = result['setup']
    assert setup['same_training_batches'] and setup['same_eval_inputs']
    assert setup['iters'] == 3 and setup['batch_size'] == 2 and setup['seeds'] == [0, 1]


def test_oracle_reads_the_generating_parameters(ablation, tmp_path):
    """LoadDemoParams turns the clip's per-frame parameters into one-hot rows
    over the audio window (known answer from the generator's metadata)."""
    work, _ = ablation
    from mmaction.registry import TRANSFORMS
    root = osp.join(str(work), 'demo_data', 'videos')
    rel = 'FastBeat/v_FastBeat_g01_c01'
    with np.load(osp.join(root, rel + '.objects.npz')) as data:
        params = data['frame_params']
    t = TRANSFORMS.build(dict(type='LoadDemoParams', num_rows=32))
    res = t(dict(filename=osp.join(root, rel + '.mp4'), avg_fps=25.0,
                 audio_window=np.array([[0.2, 0.52]])))          # frames 5..12, 4 rows each
    feat = res['audio_feature']
    assert feat.shape == (1, 32, fusion_ablation.NUM_PARAMS)
    for row in range(32):
        frame = 5 + row // 4
        on, pitch, timbre, loud = params[frame]
        assert feat[0, row, 0] == on
        if on:
            assert feat[0, row, 1 + int(pitch)] == 1 and feat[0, row, 7 + int(timbre)] == 1
            assert feat[0, row, 1:7].sum() == 1 and feat[0, row, 11] == loud
        else:
            assert not feat[0, row].any()


def test_fixed_eval_masks():
    """The evaluation mask depends on (seed, file, view) only."""
    fusion_ablation.register_components()
    from mmaction.registry import TRANSFORMS
    gen = TRANSFORMS.build(dict(type='FixedTubeMaskGenerator', mask_ratio=0.75, seed=3))
    imgs = np.zeros((2, 3, 4, 32, 32), np.uint8)  # two views after FormatShape
    res = dict(imgs=imgs, input_shape=imgs.shape, filename='/a/b/clip.mp4')
    m1 = gen(dict(res))['mask']
    np.random.seed(123)  # the global RNG plays no part
    m2 = gen(dict(res, filename='/elsewhere/clip.mp4'))['mask']
    assert m1.shape == (2, 2, 2, 2) and (m1 == m2).all()
    assert m1.reshape(2, 2, -1).sum(-1).tolist() == [[3, 3], [3, 3]]
    other = gen(dict(res, filename='/a/b/other.mp4'))['mask']
    seeds = TRANSFORMS.build(dict(type='FixedTubeMaskGenerator', mask_ratio=0.75, seed=4))
    assert not ((other == m1).all() and (seeds(dict(res))['mask'] == m1).all())
