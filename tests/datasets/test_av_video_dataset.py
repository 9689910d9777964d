"""AVVideoDataset: list parsing, audio sources, missing-audio policy, bad inputs."""
import logging
import os

import numpy as np
import pytest
from media_utils import click_signal, make_av_clip, write_list, write_wav
from mmaction.registry import DATASETS
from mmengine.logging import MMLogger

from mmav_mask.datasets import AnnotationError, AudioUnavailable, VideoReadError

PIPELINE = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=1),
    dict(type='LoadAlignedAudio'),
    dict(type='DecordDecode'),
    dict(type='AudioMFCC', num_rows=16),
]


@pytest.fixture(scope='module')
def media(tmp_path_factory):
    """A small tree: good clips, a clip without audio, broken files."""
    root = tmp_path_factory.mktemp('media')
    vids = root / 'videos'
    (vids / 'a').mkdir(parents=True)
    make_av_clip(str(vids / 'a/good.mp4'), num_frames=40, click_times=[0.5])
    make_av_clip(str(vids / 'a/good2.mp4'), num_frames=40, click_times=[0.2], seed=1)
    make_av_clip(str(vids / 'a/silent.mp4'), num_frames=40, audio=False)
    make_av_clip(str(vids / 'a/short_audio.mp4'), num_frames=50, audio_duration=0.5)
    make_av_clip(str(vids / 'a/tiny.mp4'), num_frames=6)
    data = (vids / 'a/good.mp4').read_bytes()
    (vids / 'a/truncated.mp4').write_bytes(data[:len(data) // 3])
    (vids / 'a/zero.mp4').write_bytes(b'')
    (vids / 'a/garbage.mp4').write_bytes(os.urandom(4096))
    return root


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture
def log_records():
    logger = MMLogger.get_current_instance()
    handler = _Records()
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


def build(media, lines, tmp_path, **kwargs):
    ann = write_list(str(tmp_path / 'list.txt'), lines)
    cfg = dict(type='AVVideoDataset', ann_file=ann, pipeline=PIPELINE,
               data_prefix=dict(video=str(media / 'videos')))
    cfg.update(kwargs)
    return DATASETS.build(cfg)


# ---------------------------------------------------------------- the list
def test_list_with_and_without_labels(media, tmp_path):
    ds = build(media, ['a/good.mp4 3', '', 'a/good2.mp4'], tmp_path, num_classes=5)
    assert len(ds) == 2
    info = ds.get_data_info(0)
    assert info['label'] == 3 and info['filename'].endswith('a/good.mp4')
    assert info['audio_source'] == 'track' and info['missing_audio'] == 'zeros'
    assert ds.get_data_info(1)['label'] == -1
    sample = ds[0]
    assert sample['audio_feature'].shape == (1, 16, 13) and sample['audio_valid']


@pytest.mark.parametrize('lines,line_no,text', [
    (['a/good.mp4 1', 'a/good2.mp4 1 2'], 2, 'expected "path [label]"'),
    (['a/good.mp4 one'], 1, 'not an integer'),
    (['a/good.mp4 1', 'a/good.mp4 0', 'a/good2.mp4 7'], 3, 'out of range'),
    (['a/good.mp4 -2'], 1, 'out of range'),
])
def test_malformed_lines_name_file_and_line(media, tmp_path, lines, line_no, text):
    with pytest.raises(AnnotationError) as err:
        build(media, lines, tmp_path, num_classes=5)
    msg = str(err.value)
    assert 'list.txt' in msg and f'line {line_no}' in msg and text in msg


def test_empty_and_missing_list(media, tmp_path):
    with pytest.raises(AnnotationError, match='empty'):
        build(media, ['', '  '], tmp_path)
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        DATASETS.build(dict(type='AVVideoDataset', ann_file=str(tmp_path / 'nope.txt'),
                            pipeline=[]))


def test_bad_options_rejected(media, tmp_path):
    for kwargs in [dict(audio_source='mic'), dict(missing_audio='drop'),
                   dict(bad_video='ignore')]:
        with pytest.raises(ValueError):
            build(media, ['a/good.mp4 0'], tmp_path, **kwargs)


# ------------------------------------------------------- missing audio
def test_missing_audio_zeros_reaches_sample(media, tmp_path, log_records):
    ds = build(media, ['a/good.mp4 0', 'a/silent.mp4 1'], tmp_path, probe_files=True)
    assert len(ds) == 2 and ds.num_without_audio == 1
    assert any('gave zero audio' in m and '1 of 2' in m for m in log_records)
    sample = ds[1]
    assert sample['audio_valid'] is False
    assert sample['audio_feature'].shape == (1, 16, 13)
    assert not sample['audio_feature'].any()


def test_missing_audio_skip_drops_with_count(media, tmp_path, log_records):
    ds = build(media, ['a/good.mp4 0', 'a/silent.mp4 1', 'a/good2.mp4 1'], tmp_path,
               missing_audio='skip')
    assert len(ds) == 2 and ds.num_without_audio == 1
    assert all('silent' not in ds.get_data_info(i)['filename'] for i in range(len(ds)))
    assert any('skipped 1 of 3' in m and 'silent.mp4' in m for m in log_records)


def test_missing_audio_error_names_file(media, tmp_path):
    with pytest.raises(AudioUnavailable, match='silent.mp4'):
        build(media, ['a/good.mp4 0', 'a/silent.mp4 1'], tmp_path, missing_audio='error')
    # also at transform time when the dataset did not probe
    from mmaction.registry import TRANSFORMS
    results = dict(filename=str(media / 'videos/a/silent.mp4'), start_index=0,
                   missing_audio='error')
    for cfg in PIPELINE[:2]:
        results = TRANSFORMS.build(cfg)(results)
    with pytest.raises(AudioUnavailable, match='silent.mp4.*no audio track'):
        TRANSFORMS.build(dict(type='LoadAlignedAudio'))(results)


# ------------------------------------------------------------ audio sources
def test_sidecar_wav_source(media, tmp_path):
    audio_root = tmp_path / 'audio'
    (audio_root / 'a').mkdir(parents=True)
    # the sidecar holds a click at 0.9 s; the video's own track has it at 0.5 s
    write_wav(str(audio_root / 'a/good.wav'), click_signal(16000, 1.6, [0.9]), 16000)
    ds = build(media, ['a/good.mp4 0', 'a/good2.mp4 0'], tmp_path, audio_source='sidecar',
               data_prefix=dict(video=str(media / 'videos'), audio=str(audio_root)),
               pipeline=PIPELINE[:4])
    assert ds.get_data_info(0)['audio_path'] == str(audio_root / 'a/good.wav')
    from mmaction.registry import TRANSFORMS
    res = dict(ds.get_data_info(0), frame_inds=np.arange(20, 28), clip_len=8, avg_fps=25.0,
               start_index=0)
    res = TRANSFORMS.build(dict(type='LoadAlignedAudio'))(res)
    assert res['audio_valid']
    peak = np.argmax(np.abs(res['audio'][0])) / 16000 + res['audio_window'][0, 0]
    assert peak == pytest.approx(0.9, abs=0.01)
    # the second clip has no sidecar: zeros + audio_valid False (default policy)
    assert ds[1]['audio_valid'] is False


def test_sidecar_missing_skip_policy(media, tmp_path):
    audio_root = tmp_path / 'audio'
    (audio_root / 'a').mkdir(parents=True)
    write_wav(str(audio_root / 'a/good.wav'), click_signal(8000, 1.6, [0.9], 2), 8000)
    ds = build(media, ['a/good.mp4 0', 'a/good2.mp4 0'], tmp_path, audio_source='sidecar',
               missing_audio='skip',
               data_prefix=dict(video=str(media / 'videos'), audio=str(audio_root)))
    assert len(ds) == 1 and ds.num_without_audio == 1
    assert ds[0]['audio_valid'] is True


def test_feature_npy_source(media, tmp_path):
    feat_root = tmp_path / 'feat'
    (feat_root / 'a').mkdir(parents=True)
    rows = np.arange(300, dtype=np.float32)[:, None] * np.ones((1, 13), np.float32)
    np.save(feat_root / 'a/good.npy', rows)  # row r holds value r (100 rows/s)
    pipeline = [dict(type='DecordInit'),
                dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=1),
                dict(type='LoadAlignedAudio', feature_dim=13), dict(type='AudioMFCC')]
    ds = build(media, ['a/good.mp4 0', 'a/good2.mp4 0'], tmp_path, audio_source='feature',
               data_prefix=dict(video=str(media / 'videos'), audio=str(feat_root)),
               pipeline=pipeline)
    sample = ds[0]
    w0, w1 = sample['audio_window'][0]
    feat = sample['audio_feature'][0]
    assert feat.shape == (int(round((w1 - w0) * 100)), 13)
    np.testing.assert_allclose(feat[:, 0], np.round(w0 * 100) + np.arange(feat.shape[0]))
    missing = ds[1]
    assert missing['audio_valid'] is False and missing['audio_feature'].shape[2] == 13
    assert not missing['audio_feature'].any()


# ------------------------------------------------------------- bad inputs
@pytest.mark.parametrize('name,reason', [('truncated.mp4', 'cannot open'),
                                         ('zero.mp4', 'zero-byte'),
                                         ('garbage.mp4', 'cannot open'),
                                         ('missing.mp4', 'not found')])
def test_bad_video_error_names_file(media, tmp_path, name, reason):
    # default: no probing, the error comes when the sample is loaded
    ds = build(media, ['a/good.mp4 0', f'a/{name} 0'], tmp_path)
    ds[0]
    with pytest.raises(VideoReadError, match=name):
        ds[1]
    # probing at load time names the file and the reason
    with pytest.raises(VideoReadError, match=f'{name}.*{reason}'):
        build(media, ['a/good.mp4 0', f'a/{name} 0'], tmp_path, probe_files=True)


def test_bad_video_skip_at_load_with_count(media, tmp_path, log_records):
    lines = ['a/good.mp4 0', 'a/truncated.mp4 0', 'a/zero.mp4 0', 'a/missing.mp4 0',
             'a/garbage.mp4 0', 'a/good2.mp4 1']
    ds = build(media, lines, tmp_path, bad_video='skip')
    assert len(ds) == 2 and ds.num_bad_videos == 4
    assert any('skipped 4 of 6' in m and 'unreadable video' in m for m in log_records)


def test_bad_video_skip_at_runtime(media, tmp_path, log_records):
    ds = build(media, ['a/zero.mp4 0', 'a/good.mp4 0'], tmp_path, bad_video='skip',
               probe_files=False)
    sample = ds[0]  # replaced by another sample
    assert sample['filename'].endswith('good.mp4')
    assert ds.num_runtime_skips >= 1
    assert any('skipping' in m and 'zero.mp4' in m for m in log_records)
    # test mode cannot replace samples: the error names the file
    ds_test = build(media, ['a/zero.mp4 0', 'a/good.mp4 0'], tmp_path, bad_video='skip',
                    probe_files=False, test_mode=True)
    with pytest.raises(VideoReadError, match='zero.mp4'):
        ds_test[0]


def test_all_clips_dropped_is_an_error(media, tmp_path):
    with pytest.raises(AnnotationError, match='no usable clip'):
        build(media, ['a/zero.mp4 0', 'a/silent.mp4 0'], tmp_path, bad_video='skip',
              missing_audio='skip')


def test_audio_shorter_than_clip_is_zero_padded(media, tmp_path):
    pipeline = [dict(type='DecordInit'),
                dict(type='SampleFrames', clip_len=8, frame_interval=4, num_clips=1,
                     test_mode=True), dict(type='LoadAlignedAudio')]
    ds = build(media, ['a/short_audio.mp4 0'], tmp_path, pipeline=pipeline)
    sample = ds[0]
    w0, w1 = sample['audio_window'][0]
    assert w0 < 0.5 < w1 and sample['audio_valid'] is True
    audio = sample['audio'][0]
    cut = int(round((0.5 - w0) * 16000))
    assert np.sqrt(np.mean(audio[:cut - 400] ** 2)) > 1e-4
    assert not audio[cut + 400:].any()


def test_clip_shorter_than_clip_len_times_interval(media, tmp_path):
    pipeline = [dict(type='DecordInit'),
                dict(type='SampleFrames', clip_len=16, frame_interval=4, num_clips=1),
                dict(type='LoadAlignedAudio'), dict(type='DecordDecode'),
                dict(type='AudioMFCC', num_rows=32)]
    ds = build(media, ['a/tiny.mp4 0'], tmp_path, pipeline=pipeline)
    sample = ds[0]
    assert len(sample['imgs']) == 16
    w0, w1 = sample['audio_window'][0]
    # looped frame indices: the window covers the frames used, inside the video
    assert 0.0 <= w0 < w1 <= 6 / 25 + 1e-6
    assert sample['audio_feature'].shape == (1, 32, 13)


@pytest.mark.parametrize('channels,rate', [(1, 8000), (2, 22050), (6, 48000), (2, 44100),
                                           (6, 11025)])
def test_channel_counts_and_rates(tmp_path, channels, rate):
    from mmaction.registry import TRANSFORMS
    path = make_av_clip(str(tmp_path / 'x.mp4'), num_frames=30, click_times=[0.6],
                        channels=channels, sample_rate=rate)
    results = dict(filename=path, start_index=0)
    for cfg in PIPELINE[:3]:
        results = TRANSFORMS.build(cfg)(results)
    w0, w1 = results['audio_window'][0]
    audio = results['audio']
    assert audio.dtype == np.float32 and audio.shape == (1, int(round((w1 - w0) * 16000)))
    assert results['audio_valid'] is True
    if w0 <= 0.6 < w1:
        assert np.argmax(np.abs(audio[0])) / 16000 + w0 == pytest.approx(0.6, abs=0.01)
    assert np.sqrt(np.mean(audio ** 2)) > 1e-4
