"""tools/data/ucf101: build_av_lists.py and extract_audio.py."""
import csv
import importlib.util
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BUILD = osp.join(REPO, 'tools', 'data', 'ucf101', 'build_av_lists.py')
EXTRACT = osp.join(REPO, 'tools', 'data', 'ucf101', 'extract_audio.py')
sys.path.insert(0, osp.join(REPO, 'tests', 'datasets'))
from media_utils import make_av_clip  # noqa: E402

pytestmark = pytest.mark.slow  # subprocess runs of the tools

CLASS_IND = '1 ApplyEyeMakeup\r\n2 HandstandPushups\r\n3 YoYo\r\n'


def _run(tool, *args, timeout=300):
    return subprocess.run([sys.executable, tool, *args], capture_output=True, text=True,
                          errors='replace', timeout=timeout, cwd=REPO)


def _write(path, text):
    with open(path, 'w', newline='') as f:
        f.write(text)


def _read(path):
    with open(path) as f:
        return f.read()


@pytest.fixture
def split_dir(tmp_path):
    d = tmp_path / 'ucfTrainTestlist'
    d.mkdir()
    _write(d / 'classInd.txt', CLASS_IND)
    # UCF101's files: CRLF endings, 1-based labels in trainlists, none in testlists
    _write(d / 'trainlist01.txt',
           'ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\r\n'
           'HandstandPushups/v_HandStandPushups_g08_c01.avi 2\r\n'
           'YoYo/v_YoYo_g08_c01.avi 3\r\n\r\n')
    _write(d / 'testlist01.txt',
           'ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi\r\n'
           'HandstandPushups/v_HandStandPushups_g01_c01.avi\r\n'
           'YoYo/v_YoYo_g01_c02.avi\r\n')
    _write(d / 'trainlist02.txt',
           'ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi 1\r\nYoYo/v_YoYo_g01_c02.avi 3\r\n')
    # a class folder spelt with another case still finds its class
    _write(d / 'testlist02.txt',
           'ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi\r\n'
           'HandStandPushups/v_HandStandPushups_g08_c01.avi\r\n')
    return d


def test_build_lists(split_dir, tmp_path):
    out = tmp_path / 'lists'
    proc = _run(BUILD, '--split-dir', str(split_dir), '--out', str(out), '--splits', '1', '2')
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(out)) == sorted(f'ucf101_{s}_split_{k}_videos.txt'
                                             for k in (1, 2) for s in ('train', 'val'))
    assert _read(out / 'ucf101_train_split_1_videos.txt') == (
        'ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 0\n'
        'HandstandPushups/v_HandStandPushups_g08_c01.avi 1\n'
        'YoYo/v_YoYo_g08_c01.avi 2\n')
    assert _read(out / 'ucf101_val_split_1_videos.txt') == (
        'ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi 0\n'
        'HandstandPushups/v_HandStandPushups_g01_c01.avi 1\n'
        'YoYo/v_YoYo_g01_c02.avi 2\n')
    assert _read(out / 'ucf101_train_split_2_videos.txt') == (
        'ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi 0\nYoYo/v_YoYo_g01_c02.avi 2\n')
    assert _read(out / 'ucf101_val_split_2_videos.txt') == (
        'ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 0\n'
        'HandStandPushups/v_HandStandPushups_g08_c01.avi 1\n')
    assert 'ucf101_val_split_1_videos.txt: 3 clips' in proc.stdout


@pytest.mark.parametrize('name, text, message', [
    ('classInd.txt', '1 ApplyEyeMakeup\n2\n3 YoYo\n', 'classInd.txt, line 2'),
    ('classInd.txt', '1 ApplyEyeMakeup\nx HandstandPushups\n', 'classInd.txt, line 2'),
    ('testlist01.txt', 'YoYo/v_YoYo_g01_c01.avi\nJuggling/v_Juggling_g01_c01.avi\n',
     "testlist01.txt, line 2: class folder 'Juggling'"),
    ('trainlist01.txt', 'YoYo/v_YoYo_g08_c01.avi 3\n\nYoYo/v_YoYo_g09_c01.avi 1\n',
     'trainlist01.txt, line 3: label 1 disagrees'),
    ('trainlist01.txt', 'YoYo/v_YoYo_g08_c01.avi three\n', 'trainlist01.txt, line 1'),
    ('trainlist01.txt', 'v_YoYo_g08_c01.avi 3\n', 'trainlist01.txt, line 1'),
])
def test_build_lists_errors_name_file_and_line(split_dir, tmp_path, name, text, message):
    _write(split_dir / name, text)
    out = tmp_path / 'lists'
    proc = _run(BUILD, '--split-dir', str(split_dir), '--out', str(out), '--splits', '1', '2')
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr
    assert str(split_dir) in proc.stderr
    assert not out.exists() or not os.listdir(out)  # nothing half-written


def test_build_lists_missing_split_file(split_dir, tmp_path):
    proc = _run(BUILD, '--split-dir', str(split_dir), '--out', str(tmp_path / 'o'))
    assert proc.returncode != 0  # default splits 1 2 3; split 3 is absent
    assert 'trainlist03.txt: file not found' in proc.stderr


def test_build_lists_reproduces_demo_lists(tmp_path):
    demo = tmp_path / 'demo'
    subprocess.run([sys.executable, osp.join(REPO, 'tools', 'data', 'make_demo_dataset.py'),
                    '--out', str(demo), '--num-classes', '3', '--clips-per-class', '3',
                    '--duration', '0.4'], check=True, capture_output=True, timeout=120)
    out = tmp_path / 'lists'
    proc = _run(BUILD, '--split-dir', str(demo / 'annotations'), '--out', str(out),
                '--splits', '1')
    assert proc.returncode == 0, proc.stderr
    for name in ('ucf101_train_split_1_videos.txt', 'ucf101_val_split_1_videos.txt'):
        assert _read(out / name) == _read(demo / name)


@pytest.fixture(scope='module')
def video_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp('ucf') / 'videos'
    (root / 'Drums').mkdir(parents=True)
    (root / 'Quiet').mkdir()
    (root / 'Broken').mkdir()
    # stereo 44.1 kHz AAC, 2 s, clicks at 0.5 s and 1.3 s
    make_av_clip(str(root / 'Drums' / 'v_Drums_g01_c01.mp4'), num_frames=50,
                 sample_rate=44100, channels=2, click_times=(0.5, 1.3))
    make_av_clip(str(root / 'Quiet' / 'v_Quiet_g01_c01.avi'), num_frames=40, audio=False)
    open(root / 'Broken' / 'v_Broken_g01_c01.mp4', 'wb').close()
    return root


def test_extract_audio(video_tree, tmp_path):
    out = tmp_path / 'audio'
    proc = _run(EXTRACT, '--video-root', str(video_tree), '--out', str(out), '--workers', '2')
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the zero-byte file failed
    assert 'no_audio Quiet/v_Quiet_g01_c01.avi' in proc.stdout
    assert 'failed   Broken/v_Broken_g01_c01.mp4' in proc.stdout
    assert '1 wav files (0 already there), 1 clips without audio, 1 failed' in proc.stdout

    with open(out / 'extract_audio_report.tsv') as f:
        rows = list(csv.DictReader(f, delimiter='\t'))
    assert [(r['path'], r['status']) for r in rows] == [
        ('Broken/v_Broken_g01_c01.mp4', 'failed'), ('Quiet/v_Quiet_g01_c01.avi', 'no_audio')]
    assert 'zero-byte' in rows[0]['reason'] and rows[1]['reason'] == 'no audio track'

    wavs = sorted(osp.relpath(osp.join(d, n), out) for d, _, names in os.walk(out)
                  for n in names if n.endswith('.wav'))
    assert wavs == ['Drums/v_Drums_g01_c01.wav']
    info = sf.info(str(out / wavs[0]))
    assert info.samplerate == 16000 and info.channels == 1
    assert abs(info.duration - 2.0) < 0.05, info.duration
    wave, _ = sf.read(str(out / wavs[0]), dtype='float32')
    loud = np.flatnonzero(np.abs(wave) > 0.3) / 16000
    assert loud.size
    # the clicks stay at their times on the video clock (within 5 ms)
    assert abs(loud[0] - 0.5) < 0.005, loud[0]
    second = loud[loud > 1.0]
    assert second.size and abs(second[0] - 1.3) < 0.005, second[:1]
    assert not np.any((loud > 0.52) & (loud < 1.28))


def test_extracted_audio_is_read_as_sidecar(video_tree, tmp_path):
    out = tmp_path / 'audio'
    ann = tmp_path / 'list.txt'
    _write(ann, 'Drums/v_Drums_g01_c01.mp4 0\nQuiet/v_Quiet_g01_c01.avi 1\n')
    proc = _run(EXTRACT, '--video-root', str(video_tree), '--out', str(out), '--workers', '1',
                '--ann-file', str(ann))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '1 wav files (0 already there), 1 clips without audio, 0 failed, of 2' in proc.stdout
    # a second run keeps the existing wav
    spec = importlib.util.spec_from_file_location('extract_audio', EXTRACT)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    logged = []
    info = tool.run(str(video_tree), str(out), workers=1, ann_file=str(ann), log=logged.append)
    assert info['counts'] == dict(ok=0, exists=1, no_audio=1, failed=0), logged

    from mmaction.registry import DATASETS
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    pipeline = [dict(type='DecordInit'),
                dict(type='SampleFrames', clip_len=8, frame_interval=4, num_clips=1,
                     test_mode=True),
                dict(type='LoadAlignedAudio')]
    waves = {}
    for source in ('sidecar', 'track'):
        ds = DATASETS.build(dict(type='AVVideoDataset', ann_file=str(ann), pipeline=pipeline,
                                 data_prefix=dict(video=str(video_tree), audio=str(out)),
                                 audio_source=source, test_mode=True))
        drums, quiet = ds[0], ds[1]
        assert drums['audio_valid'] and not quiet['audio_valid']
        waves[source] = drums['audio'][0]
    # the sidecar gives the same window audio as the video's own track
    assert waves['sidecar'].shape == waves['track'].shape
    assert np.abs(waves['sidecar'] - waves['track']).max() < 0.02
