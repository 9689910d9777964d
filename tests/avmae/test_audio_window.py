"""LoadAlignedAudio(window=...): fixed-length windows centred on the frames, whole clip."""
import sys
import os.path as osp

import numpy as np
import pytest
from mmaction.registry import TRANSFORMS
from mmengine.registry import init_default_scope

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(__file__)), 'datasets'))
from media_utils import make_av_clip  # noqa: E402

FPS, FRAMES, RATE = 25, 100, 16000   # a 4 s clip
CLICK = 1.0                          # s


@pytest.fixture(scope='module')
def clip(tmp_path_factory):
    init_default_scope('mmaction')
    return make_av_clip(str(tmp_path_factory.mktemp('win') / 'click.mp4'), fps=FPS,
                        num_frames=FRAMES, click_times=[CLICK])


def load(path, window, first_frame, clip_len=8):
    init_default_scope('mmaction')
    results = TRANSFORMS.build(dict(type='DecordInit'))(
        dict(filename=path, start_index=0, modality='RGB'))
    results.update(frame_inds=np.arange(first_frame, first_frame + clip_len), clip_len=clip_len,
                   num_clips=1, frame_interval=1)
    return TRANSFORMS.build(dict(type='LoadAlignedAudio', window=window))(results)


def click_sample(wave):
    return int(np.argmax(np.abs(wave) > 0.5 * np.abs(wave).max()))


def test_centred_window_padded_before_the_file(clip):
    """Frames 20..27 span [0.8, 1.12) s, centre 0.96 s; 8 s around it is
    [-3.04, 4.96): 3.04 s of zeros, the 4 s track, 0.96 s of zeros."""
    res = load(clip, 8.0, first_frame=20)
    w0, w1 = res['audio_window'][0]
    assert (w0, w1) == pytest.approx((0.96 - 4.0, 0.96 + 4.0))
    wave = res['audio'][0]
    assert wave.shape == (8 * RATE, )
    lead = int(round(-w0 * RATE))
    assert np.abs(wave[:lead]).max() == 0                     # before the file
    assert np.abs(wave[lead:lead + RATE // 10]).max() > 0      # the track's noise floor starts
    assert np.abs(wave[lead + 4 * RATE + RATE // 10:]).max() == 0  # after the file (+ AAC frame)
    # the click sits at its time relative to the window start (AAC: within 2 ms)
    assert abs(click_sample(wave) - (CLICK - w0) * RATE) <= 0.002 * RATE
    # the frames' own span is the middle of the window, as in window='frames'
    frames = load(clip, 'frames', first_frame=20)['audio'][0]
    mid = int(round((0.8 - w0) * RATE))
    np.testing.assert_allclose(wave[mid:mid + frames.shape[0]], frames, atol=1e-4)


def test_whole_clip_window(clip):
    res = load(clip, 'clip', first_frame=60)
    assert tuple(res['audio_window'][0]) == pytest.approx((0.0, FRAMES / FPS))
    wave = res['audio'][0]
    assert wave.shape == (4 * RATE, )
    assert abs(click_sample(wave) - CLICK * RATE) <= 0.002 * RATE


def test_fbank_shapes_for_8_and_10_seconds(clip):
    for seconds, rows in ((8, 800), (10, 1000)):
        res = load(clip, float(seconds), first_frame=40)
        res = TRANSFORMS.build(dict(type='AudioFbank'))(res)
        assert res['audio_feature'].shape[1:] == (rows, 128), seconds


def test_bad_window_is_refused():
    for bad in ('all', -1.0, 0):
        with pytest.raises(ValueError, match='audio window'):
            TRANSFORMS.build(dict(type='LoadAlignedAudio', window=bad))
