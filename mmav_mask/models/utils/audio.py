"""Running the audio encoder on the clips that have audio."""
from typing import Optional

from torch import Tensor, nn


def encode_valid_audio(encoder: nn.Module, audio: Optional[Tensor],
                       valid: Optional[Tensor]) -> Optional[Tensor]:
    """Encodes only the clips with audio; the rows of the others are zero.

    Silent clips (about half of UCF101) carry placeholder features; keeping
    them out of the encoder keeps them out of its BatchNorm statistics.

    Args:
        encoder: audio encoder, (B', L, F) -> (B', *S).
        audio: (B, L, F) features or None.
        valid: (B,) bool or None (None = all clips have audio).

    Returns:
        (B, *S) with zero rows where ``valid`` is False, or None when no clip
        has audio.
    """
    if audio is None:
        return None
    if valid is None or bool(valid.all()):
        return encoder(audio)
    if not bool(valid.any()):
        return None
    feats = encoder(audio[valid])
    out = feats.new_zeros((valid.shape[0], ) + feats.shape[1:])
    return out.index_put((valid.nonzero(as_tuple=True)[0], ), feats)


def keep_in_graph(x: Tensor, *modules: nn.Module) -> Tensor:
    """Returns ``x`` with every trainable parameter of ``modules`` attached at
    zero weight, so DDP (without find_unused_parameters) does not wait for their
    gradients on a batch that did not use them (e.g. no clip had audio)."""
    anchor = sum(p.sum() for m in modules if m is not None
                 for p in m.parameters() if p.requires_grad)
    return x + anchor * 0.0 if isinstance(anchor, Tensor) else x
