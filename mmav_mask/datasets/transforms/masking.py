"""Mask generators made in the data pipeline (True = masked).

Where the random numbers come from (per sample, first rule that applies):

1. ``results['sample_idx']`` is a :class:`~mmav_mask.datasets.samplers.SampleKey`
   (the dataloader uses ``KeyedSampler``): a generator seeded from (seed, epoch,
   index, mask key), seed = the generator's ``seed`` argument or else the
   sampler's (the runner's ``randomness.seed``). Validation/test samplers never
   change epoch, so evaluation masks depend only on (seed, index): the same in
   every round and for any number of processes or workers. Training masks
   change every epoch and can be recomputed for any (epoch, index) without
   replaying earlier batches.
2. A ``seed`` argument with a plain index: (seed, 0, index, mask key), i.e. a
   fixed mask per sample (meant for evaluation pipelines).
3. Otherwise numpy's global generator (seeded per worker by mmengine).
"""
from __future__ import annotations

import zlib
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS

from ..samplers import SampleKey  # noqa: F401  (registers KeyedSampler with the transforms)


def sample_rng(results: Dict, seed: Optional[int], key: str) -> Optional[np.random.Generator]:
    """Per-sample generator keyed on (seed, epoch, index, key), or None for the
    global generator (see the module docstring for the rules).

    Args:
        results: the sample; its ``sample_idx`` may carry ``seed``/``epoch``.
        seed: explicit seed (overrides the sampler's) or None.
        key: the results key the mask is written to, so two masks of one
            sample (video, audio) are independent.
    """
    index = results.get('sample_idx')
    if index is None:
        return None
    if seed is None:
        seed = getattr(index, 'seed', None)
        if seed is None:
            return None
    epoch = int(getattr(index, 'epoch', 0))
    words = [int(seed) & 0xFFFFFFFF, epoch, int(index), zlib.crc32(key.encode())]
    return np.random.default_rng(np.random.SeedSequence(words))


def _video_size(results: Dict) -> Tuple[int, int, int]:
    """(T, H, W) of one view: from a formatted 'NCTHW' array, else from
    ``clip_len`` and ``img_shape``."""
    imgs = results.get('imgs')
    if isinstance(imgs, np.ndarray) and imgs.ndim in (4, 5) and 'input_shape' in results:
        return tuple(int(s) for s in imgs.shape[-3:])  # ([V,] C, T, H, W)
    if 'clip_len' in results and 'img_shape' in results:
        h, w = results['img_shape'][:2]
        return int(results['clip_len']), int(h), int(w)
    raise KeyError('cannot derive the input size: give input_size or put the generator '
                   'after the transforms that set clip_len/img_shape (or FormatShape)')


def _check_ratio(mask_ratio: float) -> None:
    if not 0.0 <= mask_ratio < 1.0:
        raise ValueError(f'mask_ratio must be in [0, 1), got {mask_ratio}')


def check_second_view(mask_ratio: float, second_view_key: Optional[str], key: str) -> None:
    if second_view_key is None:
        return
    if second_view_key == key:
        raise ValueError(f'second_view_key must differ from key, both are {key!r}')
    if mask_ratio < 0.5:
        raise ValueError(f'a disjoint second view needs mask_ratio >= 0.5 (as many masked as '
                         f'visible tokens to draw its visible tokens from), got {mask_ratio}')


def disjoint_view(first: np.ndarray, rng) -> np.ndarray:
    """A second mask whose visible tokens are drawn only among the tokens
    ``first`` masks, as many as ``first`` leaves visible (MAViL Sec. 3.2:
    "a second random view containing 20% of tokens that are mutually
    exclusive from the first view").

    Args:
        first: bool mask of any shape, True = masked.
        rng: ``np.random.Generator`` or the ``np.random`` module.

    Returns:
        bool mask of ``first``'s shape and masked count; ``~first & ~second``
        is empty.

    Raises:
        ValueError: ``first`` masks fewer tokens than it leaves visible.
    """
    flat = first.reshape(-1)
    num_visible = int((~flat).sum())
    candidates = np.flatnonzero(flat)
    if num_visible > len(candidates):
        raise ValueError(f'cannot draw {num_visible} visible tokens disjoint from the first '
                         f'view among its {len(candidates)} masked ones (mask_ratio < 0.5)')
    second = np.ones_like(flat)
    second[candidates[rng.permutation(len(candidates))[:num_visible]]] = False
    return second.reshape(first.shape)


@TRANSFORMS.register_module()
class TubeMaskGenerator(BaseTransform):
    """VideoMAE tube masking: one random spatial mask repeated over time.

    The mask has shape (T / tubelet_size, H / patch_size, W / patch_size) and
    exactly ``int(mask_ratio * H * W / patch_size**2)`` True (masked) patches
    in every time slice, at the same positions in all slices.

    Added keys: ``key`` (default ``'mask'``): bool (T', H', W'); with
    ``second_view_key`` also that key: a second tube mask whose visible
    patches are drawn among the first one's masked patches (MAViL's disjoint
    view for the intra-modal contrast, :func:`disjoint_view`).

    Args:
        mask_ratio: fraction of patches masked per slice, in [0, 1).
        input_size: (T, H, W) of the clip; None derives it per sample from
            ``results`` (formatted ``imgs`` or ``clip_len`` + ``img_shape``).
        patch_size: spatial patch size. Defaults to 16.
        tubelet_size: frames per tubelet. Defaults to 2.
        key: results key to write. Defaults to ``'mask'``.
        seed: fixed seed of the per-sample generator (module docstring);
            None uses the ``KeyedSampler``'s seed, or numpy's global generator
            when the dataloader has another sampler.
        second_view_key: results key of a disjoint second view (e.g.
            ``'mask_view2'``), or None; needs ``mask_ratio >= 0.5``. Its random
            numbers are keyed on this key, so the first mask is unchanged.
    """

    def __init__(self, mask_ratio: float = 0.9,
                 input_size: Optional[Sequence[int]] = None, patch_size: int = 16,
                 tubelet_size: int = 2, key: str = 'mask', seed: Optional[int] = None,
                 second_view_key: Optional[str] = None) -> None:
        _check_ratio(mask_ratio)
        check_second_view(mask_ratio, second_view_key, key)
        self.second_view_key = second_view_key
        self.seed = seed
        self.mask_ratio = mask_ratio
        self.input_size = tuple(input_size) if input_size is not None else None
        self.patch_size = patch_size
        self.tubelet_size = tubelet_size
        self.key = key
        if self.input_size is not None:
            self._grid(self.input_size)  # fail early on a bad size

    def _grid(self, size: Sequence[int]) -> Tuple[int, int, int]:
        t, h, w = size
        if t % self.tubelet_size or h % self.patch_size or w % self.patch_size:
            raise ValueError(f'input size (T, H, W)={tuple(size)} is not divisible by '
                             f'tubelet {self.tubelet_size} / patch {self.patch_size}')
        return t // self.tubelet_size, h // self.patch_size, w // self.patch_size

    def transform(self, results: Dict) -> Dict:
        """Add the tube mask."""
        tg, hg, wg = self._grid(self.input_size or _video_size(results))
        num_patches = hg * wg
        num_masked = int(self.mask_ratio * num_patches)
        rng = sample_rng(results, self.seed, self.key) or np.random
        flat = np.zeros(num_patches, dtype=bool)
        flat[rng.permutation(num_patches)[:num_masked]] = True
        results[self.key] = np.broadcast_to(flat.reshape(1, hg, wg), (tg, hg, wg)).copy()
        if self.second_view_key is not None:
            rng2 = sample_rng(results, self.seed, self.second_view_key) or np.random
            flat2 = disjoint_view(flat, rng2)
            results[self.second_view_key] = np.broadcast_to(
                flat2.reshape(1, hg, wg), (tg, hg, wg)).copy()
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(mask_ratio={self.mask_ratio}, '
                f'input_size={self.input_size}, patch_size={self.patch_size}, '
                f'tubelet_size={self.tubelet_size}, key={self.key!r}, seed={self.seed}, '
                f'second_view_key={self.second_view_key!r})')


@TRANSFORMS.register_module()
class RandomMaskGenerator(BaseTransform):
    """Unstructured random mask over a token grid, exactly
    ``int(mask_ratio * num_tokens)`` True (masked).

    The grid is ``input_size`` when given; otherwise it is derived from
    ``results[source_key]``: for ``'imgs'`` (T/patch[0], H/patch[1], W/patch[2])
    of one view, for any other key (e.g. ``'audio_feature'`` of shape
    (num_clips, L, F)) the last ``len(patch_size)`` dims divided by
    ``patch_size`` (e.g. 16 x 16 spectrogram patches).

    Added keys: ``key`` (default ``'audio_mask'``): bool grid; with
    ``second_view_key`` also a disjoint second view (:func:`disjoint_view`).

    Args:
        mask_ratio: fraction of tokens masked, in [0, 1).
        input_size: token grid shape (int or tuple), or None to derive it.
        source_key: results key to derive the grid from.
        patch_size: patch size per derived dim.
        key: results key to write.
        seed: as in :class:`TubeMaskGenerator`.
        second_view_key: as in :class:`TubeMaskGenerator`.
    """

    def __init__(self, mask_ratio: float = 0.5,
                 input_size: Optional[Union[int, Sequence[int]]] = None,
                 source_key: str = 'audio_feature',
                 patch_size: Union[int, Sequence[int]] = (16, 16),
                 key: str = 'audio_mask', seed: Optional[int] = None,
                 second_view_key: Optional[str] = None) -> None:
        _check_ratio(mask_ratio)
        check_second_view(mask_ratio, second_view_key, key)
        self.second_view_key = second_view_key
        self.seed = seed
        self.mask_ratio = mask_ratio
        if isinstance(input_size, int):
            input_size = (input_size, )
        self.input_size = tuple(input_size) if input_size is not None else None
        self.source_key = source_key
        self.patch_size = (patch_size, ) if isinstance(patch_size, int) else tuple(patch_size)
        self.key = key

    def _grid(self, results: Dict) -> Tuple[int, ...]:
        if self.input_size is not None:
            return self.input_size
        if self.source_key == 'imgs':
            dims = _video_size(results)
        else:
            if self.source_key not in results:
                raise KeyError(f'RandomMaskGenerator: results has no {self.source_key!r}')
            dims = np.shape(results[self.source_key])
        dims = tuple(dims)[-len(self.patch_size):]
        return tuple(d // p for d, p in zip(dims, self.patch_size))

    def transform(self, results: Dict) -> Dict:
        """Add the random mask."""
        grid = self._grid(results)
        num_tokens = int(np.prod(grid))
        if num_tokens == 0:
            raise ValueError(f'empty token grid {grid} for RandomMaskGenerator')
        rng = sample_rng(results, self.seed, self.key) or np.random
        flat = np.zeros(num_tokens, dtype=bool)
        flat[rng.permutation(num_tokens)[:int(self.mask_ratio * num_tokens)]] = True
        results[self.key] = flat.reshape(grid)
        if self.second_view_key is not None:
            rng2 = sample_rng(results, self.seed, self.second_view_key) or np.random
            results[self.second_view_key] = disjoint_view(flat, rng2).reshape(grid)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(mask_ratio={self.mask_ratio}, '
                f'input_size={self.input_size}, source_key={self.source_key!r}, '
                f'patch_size={self.patch_size}, key={self.key!r}, seed={self.seed}, '
                f'second_view_key={self.second_view_key!r})')
