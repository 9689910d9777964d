"""The one place where batched model inputs lose their view axis.

A batch from :class:`AVDataPreprocessor` holds N samples of V views each
(clips x crops). Every model in the plugin scores or reconstructs each view on
its own, so it merges V into the batch axis with :func:`flatten_views` and
nothing else. The rules (also in docs/contract.md):

* V comes from ``imgs`` (N, V, C, T, H, W); without video, from ``audio``
  (N, V, L, F); a 5-D ``imgs`` / 3-D ``audio`` is one view.
* Per-sample tensors (``audio_valid`` (N,), a mask (N, *S)) are repeated for
  each view; per-view ones ((N, V), (N, V, *S)) are flattened. Views of one
  sample stay adjacent, as ``imgs.flatten(0, 1)`` orders them.
* ``audio_valid`` is never None after flattening: with no ``audio`` key it is
  False everywhere (there is nothing to fuse), with ``audio`` but no
  ``audio_valid`` it is True everywhere (the pipeline did not say otherwise).
* A plain tensor instead of a dict (MMAction2's ``ActionDataPreprocessor``
  output) is the video.
"""
from __future__ import annotations

from typing import Dict, NamedTuple, Optional, Union

import torch
from torch import Tensor


class FlatViews(NamedTuple):
    """Inputs with the view axis merged into the batch (B = N * V)."""
    imgs: Optional[Tensor]         # (B, C, T, H, W) or None
    audio: Optional[Tensor]        # (B, L, F) or None
    audio_valid: Tensor            # (B,) bool, on the inputs' device
    masks: Dict[str, Tensor]       # key -> (B, *S) bool, for each requested mask key present
    num_views: int                 # V
    num_samples: int               # N


def merge_views(x: Tensor, num_views: int, sample_dims: int) -> Tensor:
    """(N, V, *S) -> (N*V, *S); a per-sample (N, *S) tensor is repeated per view.

    Args:
        x: tensor with or without a view axis after the batch axis.
        num_views: V, the number of views of the video in the batch.
        sample_dims: len(S), the number of dimensions of one view.

    Returns:
        (N*V, *S), views of a sample adjacent, like ``imgs.flatten(0, 1)``.
    """
    if x.dim() == sample_dims + 2:
        return x.flatten(0, 1)
    if x.dim() != sample_dims + 1:
        raise ValueError(f'expected a ({sample_dims + 1})-D per-sample or '
                         f'({sample_dims + 2})-D per-view tensor, got shape {tuple(x.shape)}')
    return x.repeat_interleave(num_views, 0) if num_views > 1 else x


def flatten_views(inputs: Union[Dict[str, Tensor], Tensor],
                  mask_dims: Optional[Dict[str, int]] = None) -> FlatViews:
    """Merges the view axis of every model input (see the module docstring).

    Args:
        inputs: ``dict(imgs=(N, V, C, T, H, W) | (N, C, T, H, W),
            audio=(N, V, L, F) | (N, L, F), audio_valid=(N,) | (N, V),
            mask=(N, T', H', W') | (N, V, T', H', W'))``, keys optional
            (at least ``imgs`` or ``audio``), or the video tensor alone.
        mask_dims: mask key -> dims of one view's mask, for the masks to
            flatten when present; default ``{'mask': 3}`` (T', H', W').

    Returns:
        :class:`FlatViews`.

    Raises:
        ValueError: no video and no audio, or the audio's views / batch do not
            match the video's.
    """
    if isinstance(inputs, Tensor):
        inputs = dict(imgs=inputs)
    imgs, audio = inputs.get('imgs'), inputs.get('audio')
    if imgs is None and audio is None:
        raise ValueError(f'model inputs hold neither imgs nor audio (keys: {sorted(inputs)})')
    if imgs is not None:
        num_samples = imgs.shape[0]
        num_views = imgs.shape[1] if imgs.dim() == 6 else 1
        imgs = merge_views(imgs, num_views, sample_dims=4)
        device = imgs.device
    else:
        num_samples = audio.shape[0]
        num_views = audio.shape[1] if audio.dim() == 4 else 1
        device = audio.device
    batch = num_samples * num_views
    if audio is not None:
        if audio.shape[0] != num_samples:
            raise ValueError(f'audio has {audio.shape[0]} samples, video {num_samples}')
        audio = merge_views(audio, num_views, sample_dims=2)
        if audio.shape[0] != batch:
            raise ValueError(f'audio has {audio.shape[0]} views in all, video {batch}')

    valid = inputs.get('audio_valid')
    if audio is None:
        valid = torch.zeros(batch, dtype=torch.bool, device=device)
    elif valid is None:
        valid = torch.ones(batch, dtype=torch.bool, device=device)
    else:
        valid = valid.to(device).bool().reshape(-1)
        if valid.numel() == num_samples and num_views > 1:
            valid = valid.repeat_interleave(num_views, 0)
        if valid.numel() != batch:
            raise ValueError(f'audio_valid has {valid.numel()} entries for {num_samples} '
                             f'samples x {num_views} views')

    masks = {}
    for key, dims in (dict(mask=3) if mask_dims is None else mask_dims).items():
        if inputs.get(key) is not None:
            masks[key] = merge_views(inputs[key].bool(), num_views, sample_dims=dims)
    return FlatViews(imgs, audio, valid, masks, num_views, num_samples)


__all__ = ['FlatViews', 'flatten_views', 'merge_views']
