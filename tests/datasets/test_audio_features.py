"""AudioMFCC / AudioFbank: shapes, row timing, resize, normalisation, zeros."""
import numpy as np
import pytest
from mmaction.registry import TRANSFORMS

from mmav_mask.datasets.transforms.audio_features import resize_rows


def _results(duration=1.0, click=0.3, valid=True, clips=1):
    n = int(round(duration * 16000))
    rng = np.random.default_rng(0)
    audio = rng.standard_normal((clips, n)).astype(np.float32) * 0.01
    s = int(click * 16000)
    audio[:, s:s + 64] = 0.9
    return dict(audio=audio, audio_valid=valid, audio_sample_rate=16000,
                audio_window=np.array([[2.0, 2.0 + duration]] * clips))


@pytest.mark.parametrize('cfg,dim', [(dict(type='AudioMFCC'), 13),
                                     (dict(type='AudioFbank'), 128)])
def test_natural_length_and_click_row(cfg, dim):
    res = TRANSFORMS.build(cfg)(_results())
    feat = res['audio_feature']
    assert feat.dtype == np.float32 and feat.shape == (1, 100, dim)  # 100 rows/s
    energy = feat[0].sum(axis=1) if dim > 13 else feat[0, :, 0]
    assert abs(int(np.argmax(energy)) - 30) <= 1


def test_num_rows_resize_positions():
    feat = np.arange(10, dtype=np.float32)[:, None]
    out = resize_rows(feat, 20)  # row r samples position r * 10 / 20
    np.testing.assert_allclose(out[:, 0], np.minimum(np.arange(20) / 2, 9))
    np.testing.assert_allclose(resize_rows(feat, 5)[:, 0], [0, 2, 4, 6, 8])
    res = TRANSFORMS.build(dict(type='AudioMFCC', num_rows=40))(_results())
    assert res['audio_feature'].shape == (1, 40, 13)
    assert abs(int(np.argmax(res['audio_feature'][0, :, 0])) - 12) <= 1  # 0.3 * 40


def test_normalisations():
    utt = TRANSFORMS.build(dict(type='AudioFbank', norm='utterance'))(_results())
    f = utt['audio_feature'][0]
    np.testing.assert_allclose(f.mean(0), 0, atol=1e-4)
    raw = TRANSFORMS.build(dict(type='AudioFbank'))(_results())['audio_feature']
    varying = raw[0].std(0) > 1e-3
    np.testing.assert_allclose(f.std(0)[varying], 1, atol=1e-2)
    fixed = TRANSFORMS.build(dict(type='AudioFbank', norm='fixed', mean=-5.081,
                                  std=8.9698))(_results())['audio_feature']
    np.testing.assert_allclose(fixed, (raw + 5.081) / 8.9698, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError):
        TRANSFORMS.build(dict(type='AudioMFCC', norm='global'))


def test_invalid_audio_gives_zeros():
    res = TRANSFORMS.build(dict(type='AudioMFCC', num_rows=24))(
        _results(valid=False, clips=3))
    assert res['audio_feature'].shape == (3, 24, 13) and not res['audio_feature'].any()
    res = TRANSFORMS.build(dict(type='AudioFbank'))(_results(valid=False))
    assert res['audio_feature'].shape == (1, 100, 128) and not res['audio_feature'].any()


def test_variable_window_lengths_use_each_window():
    res = _results(duration=1.0, clips=2)
    res['audio_window'] = np.array([[0.0, 1.0], [1.0, 1.5]])  # second window 0.5 s
    res['audio'][1, 8000:] = 0.0  # zero padding after its window
    out = TRANSFORMS.build(dict(type='AudioMFCC'))(res)['audio_feature']
    assert out.shape == (2, 100, 13)
    assert not out[1, 50:].any()  # natural length 50 rows, padded after
    fixed = TRANSFORMS.build(dict(type='AudioMFCC', num_rows=10))(res)['audio_feature']
    assert fixed.shape == (2, 10, 13) and (fixed[1] != 0).all(axis=1).all()


def test_needs_audio_and_matching_rate():
    with pytest.raises(KeyError, match='LoadAlignedAudio'):
        TRANSFORMS.build(dict(type='AudioMFCC'))(dict(audio_valid=True))
    res = _results()
    res['audio_sample_rate'] = 8000
    with pytest.raises(ValueError, match='8000'):
        TRANSFORMS.build(dict(type='AudioMFCC'))(res)


def test_fbank_window_type_shows_in_the_leakage_of_a_pure_tone():
    """Audiovisual MAE asks for a Hamming window. Known property: Hamming's far
    sidelobes decay as 1/f, Hanning's as 1/f^3, so a 1 kHz tone leaks more energy
    into the top mel bins (~6-8 kHz) under Hamming, and both peak at the tone's bin."""
    t = np.arange(16000) / 16000.0
    tone = (0.5 * np.sin(2 * np.pi * 1000.0 * t)).astype(np.float32)[None]
    feats = {}
    for window in ('hanning', 'hamming'):
        res = TRANSFORMS.build(dict(type='AudioFbank', window_type=window))(
            dict(audio=tone, audio_valid=True, audio_sample_rate=16000,
                 audio_window=np.array([[0.0, 1.0]])))
        feats[window] = res['audio_feature'][0, 10:-10].mean(axis=0)  # (128,) log energy
    assert int(np.argmax(feats['hanning'])) == int(np.argmax(feats['hamming']))
    assert feats['hamming'][-20:].mean() > feats['hanning'][-20:].mean() + 3.0
    with pytest.raises(ValueError, match='window_type'):
        TRANSFORMS.build(dict(type='AudioFbank', window_type='hann'))
