"""``LoadAlignedAudio``: the audio of exactly the sampled frames' time span."""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import numpy as np
import torch
import torchaudio
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from mmaction.registry import TRANSFORMS
from ..audio_io import (AudioUnavailable, load_feature_file, read_sidecar_span,
                        read_track_span, single_threaded_torch, slice_feature_rows)
from .audio_window import apply_window, check_window, pad_before

AUDIO_SOURCES = ('track', 'sidecar', 'feature')
MISSING_AUDIO_POLICIES = ('zeros', 'skip', 'error')


def clip_windows(results: Dict) -> np.ndarray:
    """Audio window ``[t(first frame), t(last frame) + 1/fps)`` of every clip.

    Frame times come from the container timestamps (decord's
    ``get_frame_timestamp``, which also handles variable frame rate) when a
    decord reader is still in ``results``; otherwise, for AVI (no
    presentation times in the container) or for frames whose timestamp is
    invalid, from ``index / avg_fps``. With
    looping sampling (a video shorter than ``clip_len x frame_interval``) a
    clip's window spans the earliest to the latest frame it uses.

    Args:
        results: needs ``frame_inds``, ``clip_len`` and ``avg_fps`` (from
            ``DecordInit``/``SampleFrames``); ``video_reader`` optional.

    Returns:
        float64 (num_clips, 2) window start and end in seconds.
    """
    fps = results.get('avg_fps') or results.get('fps')
    if not fps or not np.isfinite(fps) or fps <= 0:
        raise KeyError('LoadAlignedAudio needs a positive `avg_fps`: put it after '
                       'DecordInit (or another *Init) and SampleFrames')
    inds = np.asarray(results['frame_inds']).reshape(-1).astype(np.int64)
    inds = inds - int(results.get('start_index', 0))
    clip_len = int(results.get('clip_len', inds.size))
    clips = inds.reshape(-1, clip_len)
    first, last = clips.min(axis=1), clips.max(axis=1)
    times = _frame_times(results, np.concatenate([first, last]), fps)
    t_first, t_last = times[:len(first)], times[len(first):]
    return np.stack([t_first, t_last + 1.0 / fps], axis=1).astype(np.float64)


def _frame_times(results: Dict, inds: np.ndarray, fps: float) -> np.ndarray:
    """Presentation time (s) of frames ``inds``, video stream clock."""
    times = inds.astype(np.float64) / fps
    reader = results.get('video_reader')
    if reader is None or not hasattr(reader, 'get_frame_timestamp'):
        return times
    if _is_avi(results.get('filename')):
        # AVI stores no presentation times: chunk k is shown at k / fps (also
        # for packed B-frames, where FFmpeg's reordered pts run 1+ frames late)
        return times
    try:
        ts = np.asarray(reader.get_frame_timestamp(inds.tolist()),
                        dtype=np.float64).reshape(-1, 2)[:, 0]
    except Exception:  # noqa: BLE001 - any reader failure: keep index/fps times
        return times
    return ts if _plausible(inds, ts, fps, results.get('total_frames')) else times


def _is_avi(path: Optional[str]) -> bool:
    """Whether ``path`` is a RIFF AVI file (by its header, not its name)."""
    if not isinstance(path, str):
        return False
    try:
        with open(path, 'rb') as f:
            head = f.read(12)
    except OSError:
        return False
    return head[:4] == b'RIFF' and head[8:11] == b'AVI'


def _plausible(inds: np.ndarray, ts: np.ndarray, fps: float,
               total_frames: Optional[int]) -> bool:
    """Whether container timestamps can be trusted for these frames.

    decord reports garbage for streams without pts (e.g. AVI: AV_NOPTS as a
    huge negative number, or dts-derived times out of order); then all times
    fall back to ``index / fps`` rather than mixing two clocks.
    """
    if not np.all(np.isfinite(ts)) or np.any(ts < -1e-3):
        return False
    duration = (total_frames or (inds.max() + 1)) / fps
    if np.any(ts > 2.0 * duration + 1.0):
        return False
    order = np.argsort(inds, kind='stable')
    i_sorted, t_sorted = inds[order], ts[order]
    if np.any(np.diff(t_sorted)[np.diff(i_sorted) > 0] <= 0):
        return False
    span = i_sorted[-1] - i_sorted[0]
    if span > 0:
        # mean frame period between the extremes within 4x of 1/fps (VFR allowed)
        period = (t_sorted[-1] - t_sorted[0]) / span
        if not 0.25 / fps <= period <= 4.0 / fps:
            return False
    return True


@TRANSFORMS.register_module()
class LoadAlignedAudio(BaseTransform):
    """Load the audio aligned with the sampled frames of every clip.

    Place it after ``DecordInit`` and ``SampleFrames`` (before or after
    ``DecordDecode``; before it the container timestamps are used, after it
    ``index / avg_fps``). The audio source comes from the dataset
    (``AVVideoDataset`` puts ``audio_source``, ``audio_path`` and
    ``missing_audio`` into each sample); with a plain ``VideoDataset`` the
    video's own track is read.

    The span covering all clips is decoded once per file (seek to its start,
    stop at its end), downmixed to mono, resampled to ``sample_rate`` with
    torchaudio's sinc resampler (``torchaudio.transforms.Resample``) and cut into the clip windows.

    Required keys: ``filename``, ``frame_inds``, ``clip_len``, ``avg_fps``.

    Added keys:
        - ``audio``: float32 (num_clips, n_samples) waveform of each window
          (zero-padded where the track is shorter; all zeros when invalid).
          Not added for the ``'feature'`` source.
        - ``audio_valid``: bool, the clip had readable audio.
        - ``audio_window``: float64 (num_clips, 2) ``[start, end)`` seconds.
        - ``audio_sample_rate``: int.
        - for the ``'feature'`` source: ``audio_feature`` float32
          (num_clips, rows, F), ``audio_feature_rows`` int (num_clips,) valid
          rows per clip and ``audio_feature_precomputed=True``; the feature
          transforms then only resize/normalise it.

    Args:
        sample_rate: output rate in Hz. Defaults to 16000.
        source: ``'track'``, ``'sidecar'`` or ``'feature'``; None takes
            ``results['audio_source']`` (default ``'track'``).
        missing_audio: ``'zeros'``, ``'skip'`` or ``'error'``; None takes
            ``results['missing_audio']`` (default ``'zeros'``). With ``'error'``
            an unreadable clip raises an error naming the file; otherwise it
            gets zeros and ``audio_valid=False`` (``'skip'`` normally drops such
            clips when the dataset loads).
        feature_rate: rows per second of precomputed feature files.
            Defaults to 100 (10 ms hop).
        feature_dim: F of precomputed features, used for the zero feature of
            a clip without one; None leaves F=0 for the feature transform
            (``AudioMFCC``/``AudioFbank``) to fill with its own width.
        window: ``'frames'`` (default: the sampled frames' span), ``'clip'``
            (the whole video, ``[0, total_frames / fps)``) or a length in
            seconds centred on the frames' span (e.g. 8.0, Audiovisual MAE),
            zero-padded before the file's start and after its end.
    """

    def __init__(self, sample_rate: int = 16000, source: Optional[str] = None,
                 missing_audio: Optional[str] = None, feature_rate: float = 100.0,
                 feature_dim: Optional[int] = None, window: Any = 'frames') -> None:
        check_window(window)
        self.window = window
        if source is not None and source not in AUDIO_SOURCES:
            raise ValueError(f'source must be one of {AUDIO_SOURCES}, got {source!r}')
        if missing_audio is not None and missing_audio not in MISSING_AUDIO_POLICIES:
            raise ValueError(f'missing_audio must be one of {MISSING_AUDIO_POLICIES}, '
                             f'got {missing_audio!r}')
        self.sample_rate = int(sample_rate)
        self.source = source
        self.missing_audio = missing_audio
        self.feature_rate = float(feature_rate)
        self.feature_dim = feature_dim
        self._resamplers: Dict[int, torchaudio.transforms.Resample] = {}

    def _resampler(self, rate: int) -> torchaudio.transforms.Resample:
        """Resampler from ``rate`` (its sinc kernel is built once per rate:
        building it is most of the cost of ``torchaudio.functional.resample``)."""
        if rate not in self._resamplers:
            self._resamplers[rate] = torchaudio.transforms.Resample(rate, self.sample_rate)
        return self._resamplers[rate]

    def _read_span(self, source: str, path: str, start: float,
                   end: float) -> Tuple[np.ndarray, int]:
        if source == 'track':
            return read_track_span(path, start, end)
        return read_sidecar_span(path, start, end)

    def _waveforms(self, source: str, path: str, windows: np.ndarray) -> np.ndarray:
        """Decode the span of all windows once, resample, cut per clip.

        Returns:
            float32 (num_clips, n_samples).
        """
        span_start, span_end = float(windows[:, 0].min()), float(windows[:, 1].max())
        samples, rate = self._read_span(source, path, span_start, span_end)
        wave = torch.from_numpy(samples)
        if rate != self.sample_rate and wave.numel() > 0:
            with torch.no_grad(), single_threaded_torch():
                wave = self._resampler(rate)(wave)
        wave = wave.numpy()
        lengths = np.round((windows[:, 1] - windows[:, 0]) * self.sample_rate).astype(int)
        out = np.zeros((len(windows), max(int(lengths.max()), 1)), dtype=np.float32)
        for c, (w, n) in enumerate(zip(windows, lengths)):
            s = int(round((w[0] - span_start) * self.sample_rate))
            piece = wave[s:s + n]
            out[c, :piece.shape[0]] = piece
        return out

    def _features(self, path: str, windows: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        feat = load_feature_file(path)
        rows = [slice_feature_rows(feat, w[0], w[1], self.feature_rate) for w in windows]
        lengths = np.array([r.shape[0] for r in rows], dtype=np.int64)
        out = np.zeros((len(rows), int(lengths.max()), feat.shape[1]), dtype=np.float32)
        for c, r in enumerate(rows):
            out[c, :r.shape[0]] = r
        return out, lengths

    def transform(self, results: Dict) -> Dict:
        """Add ``audio``/``audio_feature``, ``audio_valid``, ``audio_window``."""
        source = self.source or results.get('audio_source') or 'track'
        policy = self.missing_audio or results.get('missing_audio') or 'zeros'
        path = results.get('audio_path') or results['filename']
        if source == 'track':
            path = results['filename']
        windows = apply_window(clip_windows(results), self.window, results)
        results['audio_window'] = windows
        read_windows = np.maximum(windows, 0.0)  # before the file: zeros, added below
        results['audio_sample_rate'] = self.sample_rate
        valid = True
        try:
            if source == 'feature':
                feat, lengths = self._features(path, read_windows)
                feat = pad_before(feat, windows, self.feature_rate)
                lengths = np.maximum(lengths, np.round(np.diff(windows, axis=1)[:, 0] *
                                                       self.feature_rate).astype(np.int64))
            else:
                audio = pad_before(self._waveforms(source, path, read_windows), windows,
                                   self.sample_rate)
        except AudioUnavailable as e:
            if policy == 'error':
                raise AudioUnavailable(f"{path}: {e} (missing_audio='error')") from e
            print_log(f'no usable audio in {path} ({e}); using zeros', logger='current',
                      level=10)  # DEBUG: the dataset logs the counts
            valid = False
            lengths = np.round((windows[:, 1] - windows[:, 0]) *
                               (self.feature_rate if source == 'feature' else
                                self.sample_rate)).astype(np.int64)
            if source == 'feature':
                feat = np.zeros((len(windows), int(lengths.max()), self.feature_dim or 0),
                                dtype=np.float32)
            else:
                audio = np.zeros((len(windows), int(lengths.max())), dtype=np.float32)
        if source == 'feature':
            results['audio_feature'] = feat
            results['audio_feature_rows'] = lengths
            results['audio_feature_precomputed'] = True
        else:
            results['audio'] = audio
        results['audio_valid'] = valid
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(sample_rate={self.sample_rate}, '
                f'source={self.source}, missing_audio={self.missing_audio}, '
                f'feature_rate={self.feature_rate}, window={self.window!r})')
