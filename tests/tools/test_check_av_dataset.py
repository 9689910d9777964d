"""tools/data/check_av_dataset.py on the demo data, broken lists and pipelines."""
import glob
import importlib.util
import os
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import pytest
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'data', 'check_av_dataset.py')
DEMO_CFG = osp.join(REPO, 'configs', 'avmask_demo_tiny.py')
sys.path.insert(0, osp.join(REPO, 'tests', 'datasets'))
from media_utils import make_av_clip  # noqa: E402

DUMP_KEYS = {'frames', 'audio_feature', 'frame_inds', 'fps', 'audio_window',
             'audio_window_start', 'audio_window_end', 'audio', 'audio_valid',
             'audio_sample_rate', 'clip_len', 'total_frames', 'duration', 'label', 'filename'}


def _load_tool():
    spec = importlib.util.spec_from_file_location('check_av_dataset', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tool():
    return _load_tool()


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('demo') / 'data')
    subprocess.run([sys.executable, osp.join(REPO, 'tools', 'data', 'make_demo_dataset.py'),
                    '--out', out, '--num-classes', '2', '--clips-per-class', '3',
                    '--duration', '2'], check=True, capture_output=True, timeout=120)
    return out


def _run(*args):
    proc = subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True,
                          errors='replace', timeout=300, cwd=REPO)
    return proc.returncode, proc.stdout, proc.stderr


def _list(path):
    with open(path) as f:
        return [line.split()[0] for line in f.read().splitlines() if line.strip()]


def test_demo_val_ok_and_dump(demo_root, tmp_path):
    dump = str(tmp_path / 'dump')
    rc, out, err = _run(DEMO_CFG, '--split', 'val', '--data-root', demo_root, '--dump', dump)
    assert rc == 0, out + err
    rels = _list(osp.join(demo_root, 'ucf101_val_split_1_videos.txt'))
    ok_lines = [line for line in out.splitlines() if line.startswith('ok ')]
    assert len(ok_lines) == len(rels) == 2
    for rel, line in zip(rels, ok_lines):
        assert osp.join(demo_root, 'videos', rel) in line
        assert 'audio=yes' in line and 'video=(1, 3, 8, 64, 64)' in line
        assert 'audio_feat=(1, 128, 13)' in line and 'duration=2.00s' in line
    assert 'summary: 2 clips: 2 ok, 0 failed, 0 without audio' in out

    files = sorted(glob.glob(osp.join(dump, '*.npz')))
    assert len(files) == 2
    import decord
    for rel, line, path in zip(rels, ok_lines, files):
        d = np.load(path)
        assert DUMP_KEYS <= set(d.files), set(d.files) ^ DUMP_KEYS
        assert str(d['filename']) == osp.join(demo_root, 'videos', rel)
        frames, inds, fps = d['frames'], d['frame_inds'], float(d['fps'])
        assert frames.dtype == np.uint8 and frames.shape == (8, 64, 64, 3)
        assert fps == 25.0 and inds.shape == (8, ) and np.all(np.diff(inds) == 4)
        assert abs((inds[0] + inds[-1]) / 2 - 24.5) <= 2  # the centred clip (test mode)
        # frames as decoded (64x64 source resized to 64x64: unchanged)
        ref = decord.VideoReader(str(d['filename'])).get_batch(inds.tolist()).asnumpy()
        np.testing.assert_array_equal(frames, ref)
        # the window is [t(first sampled frame), t(last) + 1/fps)
        start, end = float(d['audio_window_start'][0]), float(d['audio_window_end'][0])
        assert start == pytest.approx(inds[0] / fps, abs=1e-3)
        assert end == pytest.approx(inds[-1] / fps + 1 / fps, abs=1e-3)
        np.testing.assert_allclose(d['audio_window'], [[start, end]])
        feat = d['audio_feature']
        assert feat.shape == (1, 128, 13) and feat.dtype == np.float32
        assert np.isfinite(feat).all() and feat.std() > 0
        audio = d['audio']
        assert audio.shape == (1, round((end - start) * int(d['audio_sample_rate'])))
        assert bool(d['audio_valid']) and int(d['audio_sample_rate']) == 16000
        assert int(d['total_frames']) == 50 and float(d['duration']) == pytest.approx(2.0)
        rms = float(re.search(r'rms=([0-9.]+)', line).group(1))
        assert rms == pytest.approx(np.sqrt(np.mean(audio.astype(np.float64) ** 2)), abs=1e-4)
        assert rms > 0.01


def test_corrupt_files_reported_others_checked(demo_root, tmp_path):
    videos = osp.join(demo_root, 'videos')
    bad = osp.join(videos, 'Broken')
    os.makedirs(bad, exist_ok=True)
    open(osp.join(bad, 'v_zero.mp4'), 'wb').close()
    with open(osp.join(bad, 'v_garbage.mp4'), 'wb') as f:
        f.write(np.random.default_rng(0).bytes(4096))
    make_av_clip(osp.join(bad, 'v_silent.mp4'), num_frames=50, size=(64, 48), audio=False)
    good = _list(osp.join(demo_root, 'ucf101_val_split_1_videos.txt'))
    ann = str(tmp_path / 'list.txt')
    with open(ann, 'w') as f:
        f.write('Broken/v_zero.mp4 0\nBroken/v_garbage.mp4 1\nBroken/v_missing.mp4 0\n'
                + ''.join(f'{r} 0\n' for r in good) + 'Broken/v_silent.mp4 1\n')
    rc, out, err = _run(DEMO_CFG, '--split', 'val', '--data-root', demo_root,
                        '--ann-file', ann)
    assert rc != 0, out + err
    errors = [line for line in out.splitlines() if line.startswith('ERROR')]
    assert len(errors) == 3, out
    assert osp.join(bad, 'v_zero.mp4') in errors[0] and 'zero-byte' in errors[0]
    assert osp.join(bad, 'v_garbage.mp4') in errors[1] and 'cannot open' in errors[1]
    assert osp.join(bad, 'v_missing.mp4') in errors[2] and 'not found' in errors[2]
    oks = [line for line in out.splitlines() if line.startswith('ok ')]
    assert len(oks) == 3, out
    for rel in good:
        assert any(osp.join(videos, rel) in line and 'audio=yes' in line for line in oks)
    silent = [line for line in oks if 'v_silent.mp4' in line]
    assert silent and 'audio=no' in silent[0] and 'rms=0.0000' in silent[0]
    assert 'video=(1, 3, 8, 64, 64)' in silent[0]  # 64x48 resized by the pipeline
    assert 'summary: 6 clips: 3 ok, 3 failed, 1 without audio' in out


def test_malformed_list_names_file_and_line(tool, demo_root, tmp_path, capsys):
    ann = str(tmp_path / 'bad_list.txt')
    with open(ann, 'w') as f:
        f.write('DiscBeat/v_DiscBeat_g01_c01.mp4 0\nDiscBeat/x.mp4 zero\n')
    rc = tool.main([DEMO_CFG, '--split', 'val', '--data-root', demo_root, '--ann-file', ann])
    out = capsys.readouterr().out
    assert rc == 2
    assert 'bad_list.txt, line 2' in out


def test_train_split_is_deterministic(tool, demo_root, tmp_path, capsys):
    dumps = []
    for k in range(2):
        dump = str(tmp_path / f'dump{k}')
        assert tool.main([DEMO_CFG, '--split', 'train', '--data-root', demo_root,
                          '--dump', dump]) == 0
        dumps.append(sorted(glob.glob(osp.join(dump, '*.npz'))))
    out = capsys.readouterr().out
    assert 'removed Flip' in out and 'SampleFrames(test_mode=True)' in out
    assert len(dumps[0]) == len(_list(osp.join(demo_root, 'ucf101_train_split_1_videos.txt')))
    for a, b in zip(*dumps):
        da, db = np.load(a), np.load(b)
        for key in ('frames', 'frame_inds', 'audio_window', 'audio_feature'):
            np.testing.assert_array_equal(da[key], db[key])


def test_deterministic_pipeline(tool):
    cfg = Config.fromfile(osp.join(REPO, 'configs', '_base_', 'datasets', 'ucf101_av.py'))
    readme_like = [
        dict(type='DecordInit'),
        dict(type='SampleFrames', clip_len=16, frame_interval=4, num_clips=1),
        dict(type='LoadAlignedAudio'),
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(-1, 256)),
        dict(type='RandomResizedCrop'),
        dict(type='RandomCrop', size=200),
        dict(type='Resize', scale=(224, 224), keep_ratio=False),
        dict(type='Flip', flip_ratio=0.5),
        dict(type='ColorJitter'),
        dict(type='TorchVisionWrapper', op='RandAugment', magnitude=7, num_ops=4),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='AudioMFCC', num_rows=64),
        dict(type='TubeMaskGenerator', mask_ratio=0.9),
        dict(type='PackAVInputs'),
    ]
    new, changes = tool.deterministic_pipeline(readme_like)
    kinds = [t['type'] for t in new]
    assert not {'Flip', 'ColorJitter', 'RandomCrop', 'TorchVisionWrapper'} & set(kinds)
    assert new[1]['test_mode'] is True
    rrc = new[kinds.index('RandomResizedCrop')]
    assert rrc['area_range'] == (1.0, 1.0) and rrc['aspect_ratio_range'] == (1.0, 1.0)
    assert dict(type='CenterCrop', crop_size=200) in new
    assert 'TubeMaskGenerator' in kinds and kinds[-1] == 'PackAVInputs'
    assert readme_like[1].get('test_mode') is None  # the input is not modified
    assert len(changes) == 6 and 'removed TorchVisionWrapper(RandAugment)' in changes

    new, _ = tool.deterministic_pipeline(cfg.train_pipeline)
    assert dict(type='CenterCrop', crop_size=224) in new
    assert 'MultiScaleCrop' not in [t['type'] for t in new]

    # the replacement of RandomResizedCrop is the centre square, whatever the seed
    from mmaction.datasets.transforms import RandomResizedCrop
    crop = RandomResizedCrop(area_range=rrc['area_range'],
                             aspect_ratio_range=rrc['aspect_ratio_range'])
    for seed in range(5):
        np.random.seed(seed)
        imgs = [np.arange(48 * 80 * 3, dtype=np.uint8).reshape(48, 80, 3)]
        res = crop(dict(imgs=list(imgs), img_shape=(48, 80), modality='RGB'))
        np.testing.assert_array_equal(res['crop_bbox'], [16, 0, 64, 48])


def test_data_root_remap(tool, tmp_path):
    root = str(tmp_path)
    os.makedirs(osp.join(root, 'videos'))
    ds = dict(ann_file='data/ucf101/ucf101_train_split_1_videos.txt',
              data_prefix=dict(video='data/ucf101/videos', audio='data/ucf101/audio'))
    tool.apply_data_root(ds, root, 'data/ucf101')
    assert ds['ann_file'] == osp.join(root, 'ucf101_train_split_1_videos.txt')
    assert ds['data_prefix'] == dict(video=osp.join(root, 'videos'),
                                     audio=osp.join(root, 'audio'))
    # no data_root in the config: the list by name, ROOT/videos, audio beside the videos
    ds = dict(ann_file='lists/train.txt', data_prefix=dict(video='elsewhere', audio='x'))
    tool.apply_data_root(ds, root, None)
    assert ds['ann_file'] == osp.join(root, 'train.txt')
    assert ds['data_prefix'] == dict(video=osp.join(root, 'videos'),
                                     audio=osp.join(root, 'videos'))
    # MMAction2-style config whose data_root is the video folder
    ds = dict(ann_file='data/ucf101/ucf101_val_split_1_videos.txt',
              data_prefix=dict(video='data/ucf101/videos'))
    tool.apply_data_root(ds, root, 'data/ucf101/videos')
    assert ds == dict(ann_file=osp.join(root, 'ucf101_val_split_1_videos.txt'),
                      data_prefix=dict(video=osp.join(root, 'videos')))
    # explicit absolute paths stay
    ds = dict(ann_file='/abs/list.txt', data_prefix=dict(video='/abs/videos'))
    tool.apply_data_root(ds, root, 'data/ucf101')
    assert ds == dict(ann_file='/abs/list.txt', data_prefix=dict(video='/abs/videos'))


@pytest.mark.slow
def test_report_survives_decoder_crash(real_clips_root, tmp_path):
    """The real UCF101 AVI cut at 50/75/90 % segfaults decord (DecordInit reads
    it from memory); each clip runs in a forked child, so every clip still gets
    a line and the summary is printed."""
    data = open(osp.join(real_clips_root, 'videos/ApplyEyeMakeup/mmaction2_test.avi'),
                'rb').read()
    vids = tmp_path / 'videos' / 'A'
    vids.mkdir(parents=True)
    (vids / 'good.avi').write_bytes(data)
    names = ['good.avi']
    for cut in (50, 75, 90, 99):
        (vids / f'cut{cut}.avi').write_bytes(data[:len(data) * cut // 100])
        names.append(f'cut{cut}.avi')
    names.insert(2, 'good.mp4')
    (vids / 'good.mp4').write_bytes(
        open(osp.join(real_clips_root, 'videos/drum/vas_video_02480.mp4'), 'rb').read())
    ann = tmp_path / 'list.txt'
    ann.write_text(''.join(f'A/{n} 0\n' for n in names))
    video_root = str(tmp_path / 'videos')
    # MMAction2's own DecordInit (reads from memory, the crashing path); the demo
    # config's SafeDecordInit opens these cuts by path, where they decode fine
    rc, out, err = _run(DEMO_CFG, '--split', 'val', '--ann-file', str(ann), '--cfg-options',
                        f'val_dataloader.dataset.data_prefix.video={video_root}',
                        f'val_dataloader.dataset.data_prefix.audio={video_root}',
                        'val_dataloader.dataset.pipeline.0.type=DecordInit')
    assert rc == 1, out + err[-2000:]
    lines = [x for x in out.splitlines() if x.startswith(('ok ', 'ERROR '))]
    assert [x.split()[1] for x in lines] == [osp.join(video_root, 'A', n) for n in names]
    status = {x.split()[1].rsplit('/', 1)[1]: x for x in lines}
    for n in ('good.avi', 'good.mp4', 'cut99.avi'):
        assert status[n].startswith('ok ') and 'audio=yes' in status[n]
    for cut in (50, 75, 90):
        assert status[f'cut{cut}.avi'].startswith('ERROR '), status
        assert 'decoder crashed (killed by SIGSEGV)' in status[f'cut{cut}.avi']
    assert 'summary: 6 clips: 3 ok, 3 failed' in out
