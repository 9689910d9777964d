"""Audio-video alignment: a click under a white flash frame must land at the
flash's relative position in the audio feature (within one feature row)."""
import av
import numpy as np
import pytest
from mmaction.registry import TRANSFORMS

from media_utils import make_av_clip

FPS = 25
FLASH = 50  # flash frame index; the click starts at its presentation time


def _flash_time(path: str) -> float:
    """Container time of the white frame, from PyAV (independent of decord),
    relative to the first video frame."""
    with av.open(path) as c:
        s = c.streams.video[0]
        t0 = float(s.start_time * s.time_base)
        for frame in c.decode(video=0):
            if frame.to_ndarray(format='gray').mean() > 200:
                return float(frame.pts * frame.time_base) - t0
    raise AssertionError('no flash frame')


def _frame_time(path: str, index: int) -> float:
    with av.open(path) as c:
        s = c.streams.video[0]
        t0 = float(s.start_time * s.time_base)
        for i, frame in enumerate(c.decode(video=0)):
            if i == index:
                return float(frame.pts * frame.time_base) - t0
    raise AssertionError(index)


@pytest.fixture(scope='module')
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp('align')
    out = {}
    t_click = FLASH / FPS
    out['mp4'] = make_av_clip(str(root / 'flash.mp4'), fps=FPS, num_frames=100,
                              flash_frames=[FLASH], click_times=[t_click],
                              sample_rate=44100, channels=2)
    out['mkv'] = make_av_clip(str(root / 'flash.mkv'), fps=FPS, num_frames=100,
                              flash_frames=[FLASH], click_times=[t_click],
                              sample_rate=48000, channels=1)
    # video stream starting 0.5 s after the audio: times are on the video clock
    out['late_video'] = make_av_clip(
        str(root / 'late.mp4'), fps=FPS, num_frames=100, flash_frames=[FLASH],
        frame_times=[0.5 + i / FPS for i in range(100)], click_times=[0.5 + t_click],
        audio_duration=4.5, sample_rate=16000)
    # variable frame rate: 20 ms then 60 ms frame periods
    times = np.concatenate([np.arange(40) * 0.02, 0.8 + np.arange(40) * 0.06])
    out['vfr'] = make_av_clip(str(root / 'vfr.mp4'), fps=FPS, num_frames=80,
                              flash_frames=[55], frame_times=list(times),
                              click_times=[float(times[55])], audio_duration=3.3)
    out['avi'] = make_av_clip(str(root / 'flash.avi'), fps=FPS, num_frames=100,
                              flash_frames=[FLASH], click_times=[t_click],
                              sample_rate=44100, channels=2)
    return out


def _run(path, clip_len, interval, flash, feature, seed=0):
    """Sample with SampleFrames until the flash frame is in the clip, then run
    the audio transforms and decode the frames."""
    init = TRANSFORMS.build(dict(type='DecordInit'))
    sampler = TRANSFORMS.build(dict(type='SampleFrames', clip_len=clip_len,
                                    frame_interval=interval, num_clips=1))
    for s in range(seed, seed + 2000):
        np.random.seed(s)
        results = sampler(init(dict(filename=path, start_index=0, modality='RGB')))
        if flash in results['frame_inds']:
            break
    else:
        raise AssertionError('flash frame never sampled')
    for cfg in [dict(type='LoadAlignedAudio'), dict(type='DecordDecode'), feature]:
        results = TRANSFORMS.build(cfg)(results)
    return results


def _click_row(results):
    feat = results['audio_feature'][0]
    return int(np.argmax(feat.sum(axis=1) if feat.shape[1] > 13 else feat[:, 0]))


@pytest.mark.parametrize('kind', ['mp4', 'mkv', 'late_video'])
@pytest.mark.parametrize('clip_len,interval,seed', [(8, 1, 0), (8, 3, 0), (8, 3, 500),
                                                     (16, 2, 7), (4, 6, 3)])
def test_click_at_flash_position_mfcc(clips, kind, clip_len, interval, seed):
    path = clips[kind]
    res = _run(path, clip_len, interval, FLASH, dict(type='AudioMFCC'), seed)
    # the video side: the decoded white frame is the flash index
    j = list(res['frame_inds']).index(FLASH)
    assert np.mean(res['imgs'][j]) > 200
    w0, w1 = res['audio_window'][0]
    inds = res['frame_inds']
    assert w0 == pytest.approx(_frame_time(path, int(inds.min())), abs=1e-3)
    assert w1 == pytest.approx(_frame_time(path, int(inds.max())) + 1 / FPS, abs=1e-3)
    # natural length: 100 rows/s, row r at r * 10 ms of the window
    feat = res['audio_feature'][0]
    assert feat.shape == (int(round((w1 - w0) * 100)), 13)
    expected = (_flash_time(path) - w0) * 100
    assert abs(_click_row(res) - expected) <= 1.001, (kind, res['frame_inds'], expected)


@pytest.mark.parametrize('num_rows', [16, 50])
@pytest.mark.parametrize('feature', ['AudioMFCC', 'AudioFbank'])
def test_click_at_flash_position_fixed_rows(clips, num_rows, feature):
    path = clips['mp4']
    res = _run(path, 16, 2, FLASH, dict(type=feature, num_rows=num_rows), seed=11)
    w0, w1 = res['audio_window'][0]
    assert res['audio_feature'].shape[1] == num_rows
    expected = (_flash_time(path) - w0) / (w1 - w0) * num_rows
    assert abs(_click_row(res) - expected) <= 1.001


def test_variable_frame_rate_alignment(clips):
    path = clips['vfr']
    for interval, seed in [(1, 0), (4, 0), (4, 90)]:
        res = _run(path, 8, interval, 55, dict(type='AudioMFCC'), seed)
        w0, _ = res['audio_window'][0]
        # the window follows the container timestamps, not index / avg_fps
        assert w0 == pytest.approx(_frame_time(path, int(res['frame_inds'].min())), abs=1e-3)
        expected = (_flash_time(path) - w0) * 100
        assert abs(_click_row(res) - expected) <= 1.001


def test_avi_mp3_alignment(clips):
    """MP3 in AVI: the encoder delay (1105 samples, ~25 ms at 44.1 kHz) cannot
    be signalled by the container, so the click may come up to ~3 rows late."""
    path = clips['avi']
    res = _run(path, 8, 2, FLASH, dict(type='AudioMFCC'), 0)
    w0, _ = res['audio_window'][0]
    delta = _click_row(res) - (_flash_time(path) - w0) * 100
    assert -1.01 <= delta <= 3.01


def test_several_clips_decoded_once_share_the_file(clips):
    """num_clips > 1: each clip gets its own window; the flash clip has the click."""
    path = clips['mp4']
    results = dict(filename=path, start_index=0, modality='RGB')
    for cfg in [dict(type='DecordInit'),
                dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=5,
                     test_mode=True),
                dict(type='LoadAlignedAudio'), dict(type='AudioMFCC', num_rows=20)]:
        results = TRANSFORMS.build(cfg)(results)
    inds = results['frame_inds'].reshape(5, 8)
    windows = results['audio_window']
    assert results['audio'].shape[0] == 5 and windows.shape == (5, 2)
    assert results['audio_feature'].shape == (5, 20, 13)
    np.testing.assert_allclose(windows[:, 0], inds.min(1) / FPS, atol=1e-3)
    np.testing.assert_allclose(windows[:, 1], inds.max(1) / FPS + 1 / FPS, atol=1e-3)
    rms = np.sqrt((results['audio'] ** 2).mean(axis=1))
    has_flash = (inds[:, 0] <= FLASH) & (inds[:, -1] >= FLASH)
    assert has_flash.sum() == 1
    assert rms[has_flash].min() > 5 * rms[~has_flash].max()
