"""Loading MAViL's stage-2 teacher encoder from a stage-1 checkpoint (safe loader only)."""
from __future__ import annotations

from torch import nn

from ..checkpoint_layouts import (detect_layout, load_state_dict_report,
                                  unwrap_state_dict)


def load_mavil_teacher(encoder: nn.Module, path: str) -> None:
    """Fills a ``MAViLEncoder`` with the ``backbone.*`` weights of a MAViL checkpoint.

    Reads ``path`` with the plugin's tensors-only loader (any URL scheme),
    checks that it is a MAViL checkpoint (``'mavil'`` layout: uni-modal ViTs
    AND fusion encoder) and loads every encoder tensor. A teacher with a
    missing or mis-shaped tensor would silently keep random weights, so
    that is an error, not a warning.

    Args:
        encoder: the teacher ``MAViLEncoder`` (same architecture as the file's).
        path: stage-1 (or stage-2) MAViL checkpoint, path or URL.

    Raises:
        ValueError: not a MAViL checkpoint, or it does not fit ``encoder``.
    """
    from mmav_mask.utils.checkpoint import safe_load
    state = unwrap_state_dict(safe_load(path, map_location='cpu'))
    layout = detect_layout(state)
    if layout != 'mavil':
        raise ValueError(f'{path}: the MAViL teacher needs a MAViL checkpoint (backbone.video.*, '
                         f'backbone.audio.* and backbone.fusion.* keys); this file has the '
                         f'{layout!r} layout')
    report = load_state_dict_report(encoder, state, prefix='backbone.', source=path)
    if report.missing or report.mismatched:
        raise ValueError(f'{path} does not fit the teacher encoder: missing '
                         f'{report.missing[:8]}, shape mismatch {report.mismatched[:8]} '
                         '(teacher.backbone must be the stage-1 encoder architecture)')


__all__ = ['load_mavil_teacher']
