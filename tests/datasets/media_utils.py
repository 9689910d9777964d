"""Synthetic media for data-pipeline tests, written with PyAV (bundled ffmpeg).

Reusable by any test: :func:`make_av_clip` writes a short video (optionally with
an audio track) in which one frame can be a white flash and the audio can hold a
click at a chosen time; :func:`write_list` writes an MMAction2 annotation list.
"""
from __future__ import annotations

import os.path as osp
from fractions import Fraction
from typing import Iterable, Optional, Sequence

import av
import numpy as np

CONTAINER_CODECS = {
    # container extension -> (video codec, audio codec)
    '.mp4': ('libx264', 'aac'),
    '.mkv': ('libx264', 'libopus'),
    '.avi': ('mpeg4', 'libmp3lame'),
}


def click_signal(sample_rate: int, duration: float, click_times: Sequence[float],
                 channels: int = 1, click_len: float = 0.004,
                 background: float = 0.002, seed: int = 0) -> np.ndarray:
    """A quiet noise floor with short loud noise bursts (clicks).

    Args:
        sample_rate: Hz.
        duration: seconds.
        click_times: start time of each click in seconds.
        channels: number of (identical) channels.
        click_len: click length in seconds.
        background: RMS of the noise floor (non-zero so the track is not silent).
        seed: random seed.

    Returns:
        float32 array (channels, n_samples) in [-1, 1].
    """
    rng = np.random.default_rng(seed)
    n = int(round(duration * sample_rate))
    sig = rng.standard_normal(n).astype(np.float32) * background
    width = max(1, int(round(click_len * sample_rate)))
    for t in click_times:
        s = int(round(t * sample_rate))
        e = min(n, s + width)
        if 0 <= s < n:
            sig[s:e] = rng.uniform(-0.9, 0.9, e - s).astype(np.float32)
    return np.repeat(sig[None], channels, axis=0)


def _encode_audio(container: av.container.OutputContainer, stream, signal: np.ndarray,
                  sample_rate: int) -> None:
    """Feed a float (channels, n) signal to an audio stream in 1024-sample frames."""
    layout = {1: 'mono', 2: 'stereo', 6: '5.1'}.get(signal.shape[0])
    step = 1024
    for s in range(0, signal.shape[1], step):
        chunk = np.ascontiguousarray(signal[:, s:s + step], dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(chunk, format='fltp', layout=layout)
        frame.sample_rate = sample_rate
        frame.pts = s
        frame.time_base = Fraction(1, sample_rate)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)


def make_av_clip(path: str, *, fps: int = 25, num_frames: int = 50,
                 size: tuple = (64, 48), flash_frames: Iterable[int] = (),
                 audio: bool = True, sample_rate: int = 16000, channels: int = 1,
                 audio_duration: Optional[float] = None,
                 click_times: Sequence[float] = (), frame_times: Optional[Sequence[float]] = None,
                 video_codec: Optional[str] = None, audio_codec: Optional[str] = None,
                 seed: int = 0) -> str:
    """Write a small video file, optionally with an audio track.

    Frames are dark grey except the ``flash_frames``, which are white. The audio
    (when ``audio``) is a quiet noise floor with clicks at ``click_times``.

    Args:
        path: output file; its extension picks the container (.mp4, .mkv, .avi).
        fps: nominal frame rate.
        num_frames: number of video frames.
        size: (width, height), even numbers for h264.
        flash_frames: indices of white frames.
        audio: write an audio track.
        sample_rate: audio rate in Hz.
        channels: 1, 2 or 6 audio channels.
        audio_duration: audio length in seconds (default: the video's length).
        click_times: click start times in seconds.
        frame_times: presentation time of every frame in seconds (variable
            frame rate); default ``i / fps``.
        video_codec: override of the container's default video codec.
        audio_codec: override of the container's default audio codec.
        seed: noise seed.

    Returns:
        ``path``.
    """
    ext = osp.splitext(path)[1].lower()
    vcodec, acodec = CONTAINER_CODECS[ext]
    vcodec = video_codec or vcodec
    acodec = audio_codec or acodec
    width, height = size
    flash = set(flash_frames)
    with av.open(path, mode='w') as container:
        vstream = container.add_stream(vcodec, rate=fps)
        vstream.width, vstream.height = width, height
        vstream.pix_fmt = 'yuv420p'
        if frame_times is not None:
            # millisecond clock so arbitrary (variable) frame times fit
            vstream.codec_context.time_base = Fraction(1, 1000)
        if vcodec == 'libx264':
            vstream.options = {'preset': 'ultrafast', 'bf': '0'}
        astream = None
        if audio:
            astream = container.add_stream(acodec, rate=sample_rate)
            astream.layout = {1: 'mono', 2: 'stereo', 6: '5.1'}[channels]
        for i in range(num_frames):
            value = 255 if i in flash else 40
            img = np.full((height, width, 3), value, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format='rgb24')
            if frame_times is not None:
                frame.pts = int(round(frame_times[i] * 1000))
                frame.time_base = Fraction(1, 1000)
            else:
                frame.pts = i
            for packet in vstream.encode(frame):
                container.mux(packet)
        for packet in vstream.encode(None):
            container.mux(packet)
        if astream is not None:
            duration = audio_duration if audio_duration is not None else (
                (frame_times[-1] + 1.0 / fps) if frame_times is not None else num_frames / fps)
            signal = click_signal(sample_rate, duration, click_times, channels, seed=seed)
            _encode_audio(container, astream, signal, sample_rate)
    return path


def write_wav(path: str, signal: np.ndarray, sample_rate: int) -> str:
    """Write a (channels, n) float signal as 16-bit PCM wav (sidecar audio)."""
    import soundfile as sf
    sf.write(path, np.asarray(signal).T, sample_rate, subtype='PCM_16')
    return path


def write_list(path: str, lines: Iterable[str]) -> str:
    """Write an annotation list, one entry per line."""
    with open(path, 'w') as f:
        for line in lines:
            f.write(line + '\n')
    return path
