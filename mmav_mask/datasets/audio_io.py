"""Reading a time span of audio from a video's own track, a sidecar file or a
precomputed feature file.

All readers take a span ``[start, end)`` in seconds on the video's clock (0 =
the first video frame, the clock decord's frame timestamps use) and return the
samples (or feature rows) of exactly that span, zero-padded where the source
is shorter. They decode only what the span needs (seek, then stop at the span
end) and every loop is bounded by the file's packets, so a broken stream ends
in :class:`AudioUnavailable`, never in a hang.
"""
from __future__ import annotations

import contextlib
import math
import os.path as osp
from typing import Dict, Iterator, Optional, Tuple

import numpy as np

# seek this far before the span start: AAC/MP3/Opus decoders need a few frames
# of pre-roll after a seek before their output is exact
_SEEK_MARGIN_S = 0.25
# decoded frames whose timestamps drift less than this from the running sample
# count are taken as contiguous (container timestamps are rounded, e.g. to ms)
_JITTER_S = 0.010
# options of the open: codec options reach avformat_find_stream_info only
_PROBE_OPTIONS = {'skip_frame': 'all'}
# give up on a track after this many packets that fail to decode
_MAX_DECODE_ERRORS = 32
# Samples by which a decoded track lags its video when the container cannot say
# so. AVI has no edit list or skip-samples field, so FFmpeg outputs them:
# MP3 (LAME): 576 encoder delay + 529 decoder delay = 1105 samples at 22.05,
# 44.1 and 48 kHz; AAC (FFmpeg, FDK, faac): 1024 priming samples. Measured on
# generated clips (tests/datasets/test_alignment.py); mp4/mkv signal theirs.
AVI_AUDIO_DELAY_SAMPLES = {'mp3': 1105, 'mp3float': 1105, 'aac': 1024}


def unsignalled_delay(container, stream) -> float:
    """Seconds the decoded ``stream`` lags the video by encoder/decoder delay
    that ``container`` cannot signal (0 where it can: mp4, mkv, ...)."""
    if 'avi' not in container.format.name.split(','):
        return 0.0
    samples = AVI_AUDIO_DELAY_SAMPLES.get(stream.codec_context.name, 0)
    rate = stream.codec_context.sample_rate or stream.rate
    return samples / float(rate) if samples and rate else 0.0


@contextlib.contextmanager
def single_threaded_torch() -> Iterator[None]:
    """Runs the torch ops of the block on one intra-op thread.

    One clip's audio (a 2.56 s window: 41k samples, 257 MFCC frames) is too
    small for intra-op parallelism to pay; on a loaded machine the extra
    OpenMP threads wait for CPU time instead. On the 12 real clips with 2
    torch threads on 2 shared cores, ``LoadAlignedAudio`` took 36 ms and
    ``AudioMFCC`` 49 ms per clip, against 7 and 1.9 ms on one thread. DataLoader
    workers already run on one thread, so this also makes the main process
    (``num_workers=0``) compute the same features as a worker.
    """
    import torch
    threads = torch.get_num_threads()
    if threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class AudioUnavailable(Exception):
    """The clip has no usable audio (no track, missing or unreadable file)."""


def _to_mono(frame) -> np.ndarray:
    """PyAV AudioFrame -> float32 (samples,) mono downmix in [-1, 1]."""
    if frame.format.name == 'fltp':
        return _planar_float_to_mono(frame)
    return _to_mono_generic(frame)


def _planar_float_to_mono(frame) -> np.ndarray:
    """``fltp`` frames (what FFmpeg's AAC, MP3 and Opus decoders output), read
    from the planes without ``to_ndarray``'s copy and stack; the same numbers
    as :func:`_to_mono_generic` (float64 sum over channels, then / channels)."""
    n = frame.samples
    planes = frame.planes
    channels = frame.layout.nb_channels or 1
    first = np.frombuffer(planes[0], np.float32, n)
    if channels == 1:
        return first
    acc = first.astype(np.float64)
    for plane in planes[1:channels]:
        acc += np.frombuffer(plane, np.float32, n)
    acc /= channels
    return acc.astype(np.float32)


def _to_mono_generic(frame) -> np.ndarray:
    """Any PyAV AudioFrame -> float32 (samples,) mono downmix in [-1, 1]."""
    arr = frame.to_ndarray()
    channels = frame.layout.nb_channels or 1
    if not frame.format.is_planar:
        # packed formats come as (1, samples * channels), interleaved
        arr = arr.reshape(-1, channels).T
    mono = arr[0] if channels == 1 else arr.sum(axis=0, dtype=np.float64) / channels
    if arr.dtype == np.uint8:
        return ((mono - 128.0) / 128.0).astype(np.float32)
    if np.issubdtype(arr.dtype, np.integer):
        return (mono / float(np.iinfo(arr.dtype).max + 1)).astype(np.float32)
    return mono.astype(np.float32, copy=False)


def _decode_into(container, stream, abs_start: float, rate: int, n: int,
                 seek: bool, stats: Optional[Dict[str, int]] = None
                 ) -> Tuple[np.ndarray, float]:
    """Decode ``n`` mono samples from ``abs_start`` (stream clock, seconds).

    Args:
        stats: when given, ``'packets'`` and ``'frames'`` are incremented by
            the packets demuxed and audio frames decoded (the work done).

    Returns:
        (samples float32 (n,), time of the first decoded frame or +inf).
    """
    import av

    if seek:
        target = abs_start - _SEEK_MARGIN_S
        container.seek(int(math.floor(target / stream.time_base)), stream=stream,
                       backward=True, any_frame=False)
    buf = np.zeros(n, dtype=np.float32)
    expected = None  # sample position where the next frame should start
    first_t = math.inf
    errors = 0
    tol = int(_JITTER_S * rate)
    # float time base: Fraction arithmetic per frame is measurably slow
    stream_tb = float(stream.time_base) if stream.time_base else None
    if stats is not None:
        stats.setdefault('packets', 0)
        stats.setdefault('frames', 0)
    for packet in container.demux(stream):
        if stats is not None:
            stats['packets'] += 1
        try:
            frames = packet.decode()
        except av.error.FFmpegError:
            errors += 1
            if errors > _MAX_DECODE_ERRORS:
                raise AudioUnavailable(f'more than {_MAX_DECODE_ERRORS} undecodable audio '
                                       'packets')
            continue
        if stats is not None:
            stats['frames'] += len(frames)
        for frame in frames:
            data = _to_mono(frame)
            tb = stream_tb or (float(frame.time_base) if frame.time_base else None)
            if frame.pts is not None and tb is not None:
                t = frame.pts * tb
                first_t = min(first_t, t)
                pos = int(round((t - abs_start) * rate))
                if expected is not None and abs(pos - expected) <= tol:
                    pos = expected
            else:
                pos = expected if expected is not None else int(round(-abs_start * rate))
            expected = pos + data.shape[0]
            lo, hi = max(pos, 0), min(expected, n)
            if hi > lo:
                buf[lo:hi] = data[lo - pos:hi - pos]
            if pos >= n:
                return buf, first_t
    return buf, first_t


def read_track_span(path: str, start: float, end: float,
                    stats: Optional[Dict[str, int]] = None) -> Tuple[np.ndarray, int]:
    """Mono samples of the video's own audio track over ``[start, end)``.

    Times are relative to the start of the video stream (decord's clock), so
    tracks that start before or after the video stay aligned. Codec delay
    that the container cannot signal (MP3 and AAC in AVI) is removed
    (:func:`unsignalled_delay`).

    Args:
        path: video file.
        start: span start in seconds (>= 0).
        end: span end in seconds.
        stats: optional dict whose ``'packets'`` / ``'frames'`` counts get the
            packets demuxed and frames decoded (the cost does not grow with
            the file's length: only the span is decoded).

    Returns:
        (float32 (n,) mono samples at the track's own rate, that rate).

    Raises:
        AudioUnavailable: no audio track, or the track cannot be decoded.
    """
    import av

    try:
        # skip_frame=all: stream probing does not decode video frames (half of
        # the open's cost on the real clips, 2.0 -> 1.1 ms); it applies to the
        # probe only, not to the decoder PyAV then builds (same samples)
        container = av.open(path, metadata_errors='ignore', options=_PROBE_OPTIONS)
    except (av.error.FFmpegError, OSError) as e:
        raise AudioUnavailable(f'cannot open: {e}') from e
    with container:
        if not container.streams.audio:
            raise AudioUnavailable('no audio track')
        stream = container.streams.audio[0]
        rate = int(stream.codec_context.sample_rate or stream.rate or 0)
        if rate <= 0 or stream.codec_context.channels == 0:
            raise AudioUnavailable('audio track without sample rate/channels')
        video_t0 = 0.0
        if container.streams.video:
            vs = container.streams.video[0]
            if vs.start_time is not None and vs.time_base is not None:
                video_t0 = float(vs.start_time * vs.time_base)
        # the sample meant for time t comes out at t + delay
        abs_start = start + video_t0 + unsignalled_delay(container, stream)
        n = max(0, int(math.ceil((end - start) * rate)))
        try:
            seek = abs_start - _SEEK_MARGIN_S > 0.5
            buf, first_t = _decode_into(container, stream, abs_start, rate, n, seek, stats)
            if seek and first_t > abs_start:
                # imprecise index (e.g. some AVI): the seek overshot, decode from the top
                container.seek(0)
                buf, first_t = _decode_into(container, stream, abs_start, rate, n, False,
                                            stats)
        except av.error.FFmpegError as e:
            raise AudioUnavailable(f'audio decoding failed: {e}') from e
        if first_t == math.inf and n > 0 and not buf.any():
            raise AudioUnavailable('audio track has no decodable frames')
    return buf, rate


def read_sidecar_span(path: str, start: float, end: float) -> Tuple[np.ndarray, int]:
    """Mono samples of a sidecar audio file (wav/flac/ogg) over ``[start, end)``.

    Sample 0 of the file is the time of the first video frame (what an
    extraction tool such as ``ffmpeg -i video -map 0:a x.wav`` writes).

    Returns:
        (float32 (n,) mono samples at the file's rate, that rate).

    Raises:
        AudioUnavailable: the file is missing or unreadable.
    """
    import soundfile as sf

    if not osp.isfile(path):
        raise AudioUnavailable('sidecar audio file not found')
    try:
        info = sf.info(path)
        rate = int(info.samplerate)
        s0 = int(round(start * rate))
        n = max(0, int(math.ceil((end - start) * rate)))
        lo, hi = max(s0, 0), min(s0 + n, info.frames)
        buf = np.zeros(n, dtype=np.float32)
        if hi > lo:
            data = sf.read(path, start=lo, stop=hi, dtype='float32', always_2d=True)[0]
            buf[lo - s0:lo - s0 + data.shape[0]] = data.mean(axis=1)
    except (RuntimeError, sf.LibsndfileError, ValueError) as e:
        raise AudioUnavailable(f'cannot read sidecar audio: {e}') from e
    return buf, rate


def load_feature_file(path: str) -> np.ndarray:
    """Memory-map a precomputed feature file ``(rows, F)`` (.npy).

    Raises:
        AudioUnavailable: missing, unreadable or not 2-D.
    """
    if not osp.isfile(path):
        raise AudioUnavailable('feature file not found')
    try:
        feat = np.load(path, mmap_mode='r', allow_pickle=False)
    except (OSError, ValueError) as e:
        raise AudioUnavailable(f'cannot read feature file: {e}') from e
    if feat.ndim != 2:
        raise AudioUnavailable(f'feature file must be 2-D (rows, F), got shape {feat.shape}')
    return feat


def slice_feature_rows(feat: np.ndarray, start: float, end: float,
                       rate: float) -> np.ndarray:
    """Rows of a ``(rows, F)`` feature (``rate`` rows/s, row r at r/rate s)
    covering ``[start, end)``, zero-padded past the end.

    Returns:
        float32 (round((end - start) * rate), F).
    """
    r0 = int(round(start * rate))
    n = max(1, int(round((end - start) * rate)))
    out = np.zeros((n, feat.shape[1]), dtype=np.float32)
    lo, hi = max(r0, 0), min(r0 + n, feat.shape[0])
    if hi > lo:
        out[lo - r0:hi - r0] = feat[lo:hi]
    return out
