"""AVMAE checkpoints -> encoder weights for fine-tuning, shared layers untied."""
from __future__ import annotations

import re
from collections import OrderedDict
from typing import Dict, Mapping

from torch import Tensor

_BLOCK = re.compile(r'^backbone\.(video|audio)\.blocks\.(\d+)\.(.*)$')


def untie_avmae_encoders(state: Mapping[str, Tensor]) -> 'OrderedDict[str, Tensor]':
    """Splits an ``AVMAE`` state dict into two stand-alone encoders.

    The shared / early / mid-fusion encoders keep the layers both modalities
    use once, in the video ViT. For fine-tuning each stream gets its own copy
    (the paper, Sec. 4.2: "initialise each stream ... with the same encoder
    weights which are then untied"): video ViT keys ``backbone.video.X`` ->
    ``backbone.X``; the audio ViT's own keys ``backbone.audio.X`` ->
    ``audio_backbone.X``, plus a copy of every video block and of the final
    norm that the audio ViT does not own. The result loads into
    ``AVRecognizer`` (``pretrained=``; its default key rules) with a
    ``MaskedVideoViT`` backbone and a ``SpectrogramViT`` audio backbone.
    Decoder, heads and modality embeddings are dropped.

    Args:
        state: ``AVMAE`` state dict (``backbone.video.*``, ``backbone.audio.*``, ...).

    Returns:
        New ordered dict with ``backbone.*`` and ``audio_backbone.*`` keys.

    Raises:
        KeyError: the state dict has no ``backbone.video.`` keys (not an AVMAE file).
    """
    if not any(k.startswith('backbone.video.') for k in state):
        raise KeyError('not an AVMAE checkpoint: no backbone.video.* keys '
                       f'(first keys: {list(state)[:5]})')
    out: Dict[str, Tensor] = OrderedDict()
    audio_blocks = {int(m.group(2)) for k in state
                    if (m := _BLOCK.match(k)) and m.group(1) == 'audio'}
    audio_has_norm = any(k.startswith('backbone.audio.norm.') for k in state)
    for key, value in state.items():
        if key.startswith('backbone.video.'):
            rest = key[len('backbone.video.'):]
            out['backbone.' + rest] = value
            m = _BLOCK.match(key)
            if m and int(m.group(2)) not in audio_blocks:
                out[f'audio_backbone.blocks.{m.group(2)}.{m.group(3)}'] = value.clone()
            if rest.startswith('norm.') and not audio_has_norm:
                out['audio_backbone.' + rest] = value.clone()
        elif key.startswith('backbone.audio.'):
            out['audio_backbone.' + key[len('backbone.audio.'):]] = value
    return OrderedDict(out)


__all__ = ['untie_avmae_encoders']
