"""Audio decode cost does not grow with the file's length: only the window is
decoded (seek, then stop at the window's end).

A 10-minute and a 10-second file (generated with PyAV in tmp_path, the codecs
of the real clips: AAC in mp4, MP3 in AVI with a video track as UCF101,
Opus in mkv) each carry a 1 kHz tone burst starting 0.5 s into the window that
is read. The decoded window must hold the burst at 0.5 s (ground truth: where
it was written), and the packets demuxed and frames decoded for the long file
must match the short file's, far below the long file's packet count.
"""
import numpy as np
import pytest

av = pytest.importorskip('av')

from mmav_mask.datasets.audio_io import read_track_span  # noqa: E402

TONE_HZ = 1000.0
BURST_S = 0.2


def make_file(path, fmt, codec, seconds, rate, tone_at, video=False):
    """Mono file of silence with a 1 kHz burst [tone_at, tone_at + 0.2) s.

    Returns:
        the number of audio packets written.
    """
    out = av.open(str(path), 'w', format=fmt)
    vs = None
    if video:  # UCF101's layout: a video track next to the audio track
        vs = out.add_stream('mpeg4', rate=5)
        vs.width = vs.height = 16
        vs.pix_fmt = 'yuv420p'
        black = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format='rgb24')
    stream = out.add_stream(codec, rate=rate)
    stream.layout = 'mono'
    packets = 0
    for second, start in enumerate(range(0, int(seconds * rate), rate)):
        if vs is not None:
            for i in range(5):
                black.pts = second * 5 + i
                for p in vs.encode(black):
                    out.mux(p)
        t = (start + np.arange(rate)) / rate
        burst = (t >= tone_at) & (t < tone_at + BURST_S)
        x = np.where(burst, 0.5 * np.sin(2 * np.pi * TONE_HZ * t), 0.0)
        frame = av.AudioFrame.from_ndarray((x * 32767).astype(np.int16)[None], format='s16',
                                           layout='mono')
        frame.sample_rate = rate
        frame.pts = start
        for p in stream.encode(frame):
            out.mux(p)
            packets += 1
    for p in stream.encode(None):
        out.mux(p)
        packets += 1
    if vs is not None:
        for p in vs.encode(None):
            out.mux(p)
    out.close()
    return packets


def check_window(buf, rate):
    """The burst starts at 0.5 s of the window, is silent before and is 1 kHz."""
    env = np.abs(buf)
    assert env.max() > 0.3, 'no tone in the decoded window'
    onset = np.argmax(env > 0.1) / rate
    assert onset == pytest.approx(0.5, abs=0.003)
    assert env[:int(0.45 * rate)].max() < 0.01
    burst = buf[int(0.52 * rate):int(0.68 * rate)]
    spectrum = np.abs(np.fft.rfft(burst))
    peak_hz = np.argmax(spectrum) * rate / len(burst)
    assert peak_hz == pytest.approx(TONE_HZ, abs=15)


@pytest.mark.parametrize('fmt,codec,rate,video', [
    ('mp4', 'aac', 16000, False),
    ('avi', 'libmp3lame', 22050, True),
    ('matroska', 'libopus', 48000, False),
])
def test_decode_cost_independent_of_length(tmp_path, fmt, codec, rate, video):
    ext = {'matroska': 'mkv'}.get(fmt, fmt)
    long_path, short_path = tmp_path / f'long.{ext}', tmp_path / f'short.{ext}'
    long_packets = make_file(long_path, fmt, codec, 600, rate, 300.5, video)
    make_file(short_path, fmt, codec, 10, rate, 5.5, video)

    costs = {}
    for name, path, start in (('long', long_path, 300.0), ('short', short_path, 5.0)):
        stats = {}
        buf, got_rate = read_track_span(str(path), start, start + 1.0, stats)
        assert got_rate == rate and buf.shape == (rate, )
        check_window(buf, rate)
        costs[name] = stats
    # same work for the same window, whatever the length (a few packets of
    # slack for where the seek lands)
    assert costs['long']['packets'] <= costs['short']['packets'] + 4, costs
    assert costs['long']['frames'] <= costs['short']['frames'] + 4, costs
    # and nowhere near decoding the first 300 s
    assert costs['long']['packets'] * 50 < long_packets, (costs, long_packets)


@pytest.mark.parametrize('channels', [1, 2, 3])
def test_planar_float_downmix_matches_generic(tmp_path, channels):
    """The plane-reading fast path for ``fltp`` frames gives bit for bit the
    generic ``to_ndarray`` downmix (float64 channel sum / channels)."""
    from mmav_mask.datasets import audio_io
    path = tmp_path / 'multi.mp4'
    out = av.open(str(path), 'w', format='mp4')
    layout = {1: 'mono', 2: 'stereo', 3: '2.1'}[channels]
    stream = out.add_stream('aac', rate=16000)
    stream.layout = layout
    rng = np.random.default_rng(0)
    x = (rng.uniform(-0.5, 0.5, (channels, 16000)) * 32767).astype(np.int16)
    frame = av.AudioFrame.from_ndarray(x.T.reshape(1, -1).copy(), format='s16', layout=layout)
    frame.sample_rate, frame.pts = 16000, 0
    for p in list(stream.encode(frame)) + list(stream.encode(None)):
        out.mux(p)
    out.close()
    frames = 0
    with av.open(str(path)) as container:
        for decoded in container.decode(audio=0):
            assert decoded.format.name == 'fltp' and decoded.layout.nb_channels == channels
            fast = audio_io._planar_float_to_mono(decoded)
            generic = audio_io._to_mono_generic(decoded)
            assert fast.dtype == np.float32 and fast.shape == (decoded.samples, )
            np.testing.assert_array_equal(fast, generic)
            frames += 1
    assert frames > 10


def test_audio_ops_single_threaded():
    """The audio transforms' torch ops run on one thread and leave the
    caller's thread count as it was, also after an error."""
    import torch
    from mmav_mask.datasets.audio_io import single_threaded_torch
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with single_threaded_torch():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with pytest.raises(RuntimeError, match='boom'):
            with single_threaded_torch():
                raise RuntimeError('boom')
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
