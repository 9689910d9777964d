"""Masks over spectrogram patches: random, time, frequency and time-frequency."""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS

from .masking import check_second_view, disjoint_view, sample_rng

AUDIO_MASK_MODES = ('random', 'time', 'frequency', 'time_frequency')


@TRANSFORMS.register_module()
class AudioMaskGenerator(BaseTransform):
    """Mask over the (time, frequency) patch grid of a spectrogram, True = masked.

    The grid is ``(L // p_t, F // p_f)`` of ``results[source_key]`` (num_clips,
    L, F) (rows past the last whole patch are not tokens), or ``input_size``.
    Every mode masks a fixed number of patches, so samples batch together:

    - ``'random'``: ``int(mask_ratio * Tg * Fg)`` patches anywhere (the
      Audiovisual MAE paper, ratio 0.5).
    - ``'time'``: ``int(mask_ratio * Tg)`` whole time columns (all bins).
    - ``'frequency'``: ``int(mask_ratio * Fg)`` whole frequency rows.
    - ``'time_frequency'``: ``int(mask_ratio * Tg)`` time columns and
      ``int(freq_ratio * Fg)`` frequency rows, their union masked.

    Added keys: ``key`` (default ``'audio_mask'``): bool (Tg, Fg), shared by
    the clips of the sample; with ``second_view_key`` (mode 'random' only)
    also a second mask whose visible patches are drawn among the first one's
    masked patches (MAViL's disjoint view, ``masking.disjoint_view``).

    Args:
        mask_ratio: ratio of patches ('random'), time columns ('time',
            'time_frequency') or frequency rows ('frequency'), in [0, 1).
        mode: one of ``AUDIO_MASK_MODES``.
        freq_ratio: frequency-row ratio of 'time_frequency' (default
            ``mask_ratio``).
        patch_size: (time, frequency) patch size, or an int for square.
        input_size: (L, F) spectrogram size, or None to read it per sample.
        source_key: results key of the spectrogram.
        key: results key to write.
        seed: fixed seed of the per-sample generator; None uses the
            ``KeyedSampler``'s, else numpy's global generator (the rules of
            ``masking.py``).
        second_view_key: results key of the disjoint second view (e.g.
            ``'audio_mask_view2'``) or None; needs mode 'random' and
            ``mask_ratio >= 0.5``.
    """

    def __init__(self, mask_ratio: float = 0.5, mode: str = 'random',
                 freq_ratio: Optional[float] = None,
                 patch_size: Union[int, Sequence[int]] = 16,
                 input_size: Optional[Sequence[int]] = None,
                 source_key: str = 'audio_feature', key: str = 'audio_mask',
                 seed: Optional[int] = None, second_view_key: Optional[str] = None) -> None:
        if mode not in AUDIO_MASK_MODES:
            raise ValueError(f'mode must be one of {AUDIO_MASK_MODES}, got {mode!r}')
        if second_view_key is not None and mode != 'random':
            raise ValueError(f"second_view_key needs mode='random' (MAViL's views), got {mode!r}")
        check_second_view(mask_ratio, second_view_key, key)
        self.second_view_key = second_view_key
        for name, r in (('mask_ratio', mask_ratio), ('freq_ratio', freq_ratio)):
            if r is not None and not 0.0 <= r < 1.0:
                raise ValueError(f'{name} must be in [0, 1), got {r}')
        self.mask_ratio = float(mask_ratio)
        self.mode = mode
        self.freq_ratio = float(mask_ratio if freq_ratio is None else freq_ratio)
        self.patch_size = ((patch_size, patch_size) if isinstance(patch_size, int)
                           else tuple(int(p) for p in patch_size))
        self.input_size = tuple(input_size) if input_size is not None else None
        self.source_key = source_key
        self.key = key
        self.seed = seed

    def _grid(self, results: Dict) -> Tuple[int, int]:
        size = self.input_size
        if size is None:
            if self.source_key not in results:
                raise KeyError(f'AudioMaskGenerator: results has no {self.source_key!r}; '
                               'put it after the audio feature transform (AudioFbank).')
            size = np.shape(results[self.source_key])[-2:]
        grid = (int(size[0]) // self.patch_size[0], int(size[1]) // self.patch_size[1])
        if min(grid) < 1:
            raise ValueError(f'spectrogram of size {tuple(size)} has no whole '
                             f'{self.patch_size} patch to mask')
        return grid

    def transform(self, results: Dict) -> Dict:
        """Add the audio mask."""
        tg, fg = self._grid(results)
        rng = sample_rng(results, self.seed, self.key) or np.random
        mask = np.zeros((tg, fg), dtype=bool)
        if self.mode == 'random':
            flat = mask.reshape(-1)
            flat[rng.permutation(tg * fg)[:int(self.mask_ratio * tg * fg)]] = True
        if self.mode in ('time', 'time_frequency'):
            mask[rng.permutation(tg)[:int(self.mask_ratio * tg)], :] = True
        if self.mode == 'frequency':
            mask[:, rng.permutation(fg)[:int(self.mask_ratio * fg)]] = True
        if self.mode == 'time_frequency':
            mask[:, rng.permutation(fg)[:int(self.freq_ratio * fg)]] = True
        results[self.key] = mask
        if self.second_view_key is not None:
            rng2 = sample_rng(results, self.seed, self.second_view_key) or np.random
            results[self.second_view_key] = disjoint_view(mask, rng2)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(mask_ratio={self.mask_ratio}, mode={self.mode!r}, '
                f'freq_ratio={self.freq_ratio}, patch_size={self.patch_size}, '
                f'input_size={self.input_size}, source_key={self.source_key!r}, '
                f'key={self.key!r}, seed={self.seed}, '
                f'second_view_key={self.second_view_key!r})')
