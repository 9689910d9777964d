"""Cheap checks of a sample's files, used when a dataset loads (header reads
and at most a few packets decoded; bounded, never a full decode)."""
from __future__ import annotations

import os.path as osp
from typing import Optional

from .audio_io import AudioUnavailable, load_feature_file

# packets to try before calling a stream undecodable
_MAX_PROBE_PACKETS = 64


def probe_video(path: str, check_audio_track: bool = False):
    """Check that ``path`` is a readable video (and whether it has audio).

    Args:
        path: video file.
        check_audio_track: also decode the first audio frame.

    Returns:
        (video_error, audio_error): None when fine, else a short reason.
        ``audio_error`` is None when ``check_audio_track`` is False.
    """
    import av

    if not osp.exists(path):
        return 'file not found', None
    if osp.getsize(path) == 0:
        return 'zero-byte file', None
    try:
        container = av.open(path, metadata_errors='ignore')
    except (av.error.FFmpegError, OSError) as e:
        return f'cannot open ({e})', None
    with container:
        if not container.streams.video:
            return 'no video stream', None
        video_error = _first_frame_error(container, container.streams.video[0], 'video')
        audio_error = None
        if check_audio_track:
            if not container.streams.audio:
                audio_error = 'no audio track'
            else:
                try:
                    container.seek(0)
                except av.error.FFmpegError:
                    pass
                audio_error = _first_frame_error(container, container.streams.audio[0],
                                                 'audio')
    return video_error, audio_error


def _first_frame_error(container, stream, kind: str) -> Optional[str]:
    """Decode until the first frame of ``stream``; a reason string on failure."""
    import av
    try:
        for i, packet in enumerate(container.demux(stream)):
            if i >= _MAX_PROBE_PACKETS:
                break
            try:
                if packet.decode():
                    return None
            except av.error.FFmpegError:
                continue
    except av.error.FFmpegError as e:
        return f'{kind} stream unreadable ({e})'
    return f'no decodable {kind} frame in the first {_MAX_PROBE_PACKETS} packets'


def probe_sidecar(path: str) -> Optional[str]:
    """None when the sidecar audio file is readable, else a reason."""
    import soundfile as sf
    if not osp.isfile(path):
        return 'sidecar audio file not found'
    try:
        info = sf.info(path)
    except (RuntimeError, sf.LibsndfileError) as e:
        return f'unreadable sidecar audio ({e})'
    if info.frames == 0:
        return 'empty sidecar audio'
    return None


def probe_feature(path: str) -> Optional[str]:
    """None when the feature file is a readable 2-D array, else a reason."""
    try:
        load_feature_file(path)
    except AudioUnavailable as e:
        return str(e)
    return None
