"""Which stretch of audio a clip gets: its frames' span, a fixed length around it, or all."""
from __future__ import annotations

from typing import Dict, Union

import numpy as np

WindowType = Union[str, float, int, None]


def check_window(window: WindowType) -> None:
    """Raises ValueError unless ``window`` is None, 'frames', 'clip' or seconds > 0."""
    if window is None or window in ('frames', 'clip'):
        return
    if isinstance(window, str) or not np.isfinite(window) or window <= 0:
        raise ValueError("audio window must be 'frames', 'clip' or a length in seconds > 0, "
                         f'got {window!r}')


def apply_window(windows: np.ndarray, window: WindowType, results: Dict) -> np.ndarray:
    """Turns the frames' span of each clip into the configured audio window.

    Args:
        windows: float64 (num_clips, 2) ``[t(first frame), t(last frame) + 1/fps)``.
        window: None / 'frames' (unchanged); 'clip' (``[0, duration)``, duration
            = ``total_frames / avg_fps``); or a length L in seconds, centred on
            the frames' span: ``[c - L/2, c + L/2)`` (may start before 0 or end
            after the file: those parts are zeros, see :func:`pad_before`).
        results: the sample (``total_frames``, ``avg_fps`` for 'clip').

    Returns:
        float64 (num_clips, 2).
    """
    if window is None or window == 'frames':
        return windows
    if window == 'clip':
        fps = results.get('avg_fps') or results.get('fps')
        total = results.get('total_frames')
        if not total or not fps:
            raise KeyError("audio window 'clip' needs total_frames and avg_fps (DecordInit)")
        out = np.empty_like(windows)
        out[:, 0], out[:, 1] = 0.0, float(total) / float(fps)
        return out
    centre = windows.mean(axis=1)
    half = float(window) / 2.0
    return np.stack([centre - half, centre + half], axis=1)


def pad_before(data: np.ndarray, windows: np.ndarray, rate: float) -> np.ndarray:
    """Moves each clip's samples (read from ``max(start, 0)``) to their place in a
    window that starts before the file, zeros in front.

    Args:
        data: (num_clips, n, ...) samples or feature rows of ``[max(start, 0), end)``.
        windows: (num_clips, 2) the requested windows.
        rate: samples (or rows) per second.

    Returns:
        (num_clips, round((end - start) * rate) max, ...) with the leading
        ``round(-start * rate)`` entries zero where start < 0; ``data`` itself
        when no window starts before 0.
    """
    if not np.any(windows[:, 0] < 0):
        return data
    lengths = np.round((windows[:, 1] - windows[:, 0]) * rate).astype(np.int64)
    out = np.zeros((len(windows), int(lengths.max())) + data.shape[2:], dtype=data.dtype)
    for c, (start, _) in enumerate(windows):
        lead = int(round(max(-start, 0.0) * rate))
        n = min(data.shape[1], int(lengths[c]) - lead)
        out[c, lead:lead + n] = data[c, :n]
    return out


__all__ = ['apply_window', 'pad_before', 'check_window']
