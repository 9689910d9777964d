"""Audio-video alignment: a click under a white flash frame must land at the
flash's relative position in the audio feature (within one feature row) and,
in the 16 kHz window waveform, within 2 ms of the true time in mp4/mkv and
5 ms (target 15 ms) in UCF101-style AVIs (tests/datasets/avi_media.py)."""
import re

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


def _click_error_ms(res, true_time: float) -> float:
    """Click onset in the window's 16 kHz waveform minus its true time, in ms
    (onset: first sample above 30 % of the peak; the click is a 4 ms burst
    over a noise floor 50 dB lower)."""
    wave = np.abs(res['audio'][0])
    onset = int(np.argmax(wave > 0.3 * wave.max()))
    return (res['audio_window'][0][0] + onset / res['audio_sample_rate'] - true_time) * 1000


# true flash/click times (s, video clock) of the fixture clips, from the generator
TRUE_FLASH = {'mp4': FLASH / FPS, 'mkv': FLASH / FPS, 'late_video': FLASH / FPS,
              'avi': FLASH / FPS}


@pytest.mark.parametrize('kind', ['mp4', 'mkv', 'late_video'])
def test_mp4_mkv_waveform_within_2ms(clips, kind):
    for clip_len, interval, seed in [(8, 1, 0), (8, 3, 500), (16, 2, 7)]:
        res = _run(clips[kind], clip_len, interval, FLASH, dict(type='AudioMFCC'), seed)
        err = _click_error_ms(res, TRUE_FLASH[kind])
        assert abs(err) <= 2.0, (kind, clip_len, interval, err)


@pytest.fixture(scope='module')
def packed_avis(tmp_path_factory):
    """UCF101-style AVIs: XVID (mpeg4, 2 B-frames, packed bitstream) with MP3
    at 22.05/44.1/48 kHz or AAC, flash at frame 50, click at its time (2.0 s)."""
    from avi_media import make_packed_avi
    root = tmp_path_factory.mktemp('avi')
    out = {}
    for codec, rate, packed in [('mp3', 22050, True), ('mp3', 44100, True),
                                ('mp3', 48000, True), ('aac', 44100, True),
                                ('aac', 48000, True), ('mp3', 44100, False)]:
        name = f'{codec}{rate}' + ('' if packed else '_unpacked')
        out[name] = make_packed_avi(str(root / f'{name}.avi'), flash_frame=FLASH, fps=FPS,
                                    audio_codec=codec, sample_rate=rate, packed=packed)
    return out


def test_generated_avi_is_packed_like_ucf101(packed_avis, real_clips_root):
    """Same layout as the real UCF101 clip: XVID tag, B-frames, chunks
    I, PB, B, (not-coded P), PB, B, ... and the packed mark."""
    import os.path as osp
    from avi_media import _vop_types

    def layout(path):
        with av.open(path) as c:
            v = c.streams.video[0]
            chunks = [bytes(p) for p in c.demux(v) if p.size][:10]
            return (v.codec_tag, v.codec_context.has_b_frames,
                    [_vop_types(b) + ('' if len(b) > 8 else '(6 bytes)') for b in chunks],
                    re.search(rb'DivX\d+b\d+p', chunks[0]) is not None)

    real = layout(osp.join(real_clips_root, 'videos/ApplyEyeMakeup/mmaction2_test.avi'))
    ours = layout(packed_avis['mp344100']['path'])
    assert real[0] == ours[0] == 'XVID' and real[1] and ours[1]
    assert real[2][:7] == ours[2][:7] == ['I', 'PB', 'B', 'P(6 bytes)', 'PB', 'B',
                                          'P(6 bytes)']
    # both carry the packed-bitstream mark (DivX<ver>b<build>p), real one in extradata
    with av.open(osp.join(real_clips_root, 'videos/ApplyEyeMakeup/mmaction2_test.avi')) as c:
        assert re.search(rb'DivX\d+b\d+p', bytes(c.streams.video[0].codec_context.extradata))
    assert ours[3]


@pytest.mark.parametrize('name', ['mp322050', 'mp344100', 'aac48000', 'mp344100_unpacked'])
def test_which_clock_is_right(packed_avis, name):
    """Settled on ground truth: the flash (true time 2.0 s, chunk 50) is
    decord's frame 50, i.e. index / fps is right; FFmpeg's reordered pts put it
    one or more frames later (as on the real UCF101 clip, whose first frame
    FFmpeg shows at 40 ms), so that clock must not be used for AVI."""
    import decord
    info = packed_avis[name]
    vr = decord.VideoReader(info['path'])
    bright = vr.get_batch(list(range(len(vr)))).asnumpy().mean(axis=(1, 2, 3))
    assert int(np.argmax(bright > 200)) == FLASH and FLASH / FPS == info['flash_time']
    with av.open(info['path']) as c:
        t_ffmpeg = next(float(f.pts * f.time_base) for f in c.decode(video=0)
                        if f.to_ndarray(format='gray').mean() > 200)
    assert t_ffmpeg - info['flash_time'] >= 1 / FPS - 1e-6, t_ffmpeg


@pytest.mark.parametrize('name', ['mp3_22050', 'mp3_44100', 'mp3_48000', 'aac_44100',
                                  'aac_48000', 'mp3_44100_unpacked'])
def test_avi_within_15ms(packed_avis, name):
    """Ground truth: chunk k of an AVI is shown at k / fps, so the flash
    (display frame 50, chunk 50 when packed) is at 2.0 s and the click starts
    there. decord's index / fps is that clock (FFmpeg's reordered pts put the
    frame 1-3 frames later); MP3 (1105 samples) and AAC (1024) delays, which
    AVI cannot signal, are removed. Target <= 15 ms; asserted <= 5 ms."""
    info = packed_avis[name.replace('_', '', 1)]
    for clip_len, interval, seed in [(8, 1, 0), (8, 3, 500), (16, 2, 7), (4, 6, 3)]:
        res = _run(info['path'], clip_len, interval, FLASH, dict(type='AudioMFCC'), seed)
        j = list(res['frame_inds']).index(FLASH)
        assert np.mean(res['imgs'][j]) > 200  # decord index 50 is the flash
        w0 = res['audio_window'][0][0]
        assert w0 == pytest.approx(res['frame_inds'].min() / FPS, abs=1e-9)
        err = _click_error_ms(res, info['flash_time'])
        assert abs(err) <= 5.0, (name, clip_len, interval, err)  # measured <= 0.2 ms


def test_avi_without_b_frames_within_15ms(clips):
    res = _run(clips['avi'], 8, 2, FLASH, dict(type='AudioMFCC'), 0)
    assert abs(_click_error_ms(res, TRUE_FLASH['avi'])) <= 15.0


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
