"""Write the encoders of an AVMAE or MAViL pretraining checkpoint for fine-tuning.

Usage:
    python tools/convert/avmae_to_recognizer.py IN OUT

IN: an AVMAE or MAViL checkpoint (work_dirs/avmae_*/epoch_N.pth,
work_dirs/mavil_*/epoch_N.pth; path or URL, read tensors-only; the layout
filter of models/checkpoint_layouts.py does the renaming; MAViL's fusion
encoder and decoders are dropped, as the paper fine-tunes the uni-modal
encoders). OUT: ``{'state_dict': ..., 'meta': ...}`` with the video ViT
under ``backbone.*`` and the spectrogram ViT under ``audio_backbone.*``; layers
the pretraining encoder shared between the modalities are copied into both
(untied). Use it as ``model.pretrained=OUT`` of configs/avmae_demo_finetune_*.py or
configs/avmae_vggsound_finetune_*.py; the MBT two-stream model (``TwoStreamViT``) maps
``backbone.*`` / ``audio_backbone.*`` onto its video / audio streams.
"""
from __future__ import annotations

import argparse
import sys

import mmav_mask  # noqa: F401  (compat fixes before mmaction imports)
from mmav_mask.models.checkpoint_layouts import detect_layout, to_mmav, unwrap_state_dict
from mmav_mask.utils.checkpoint import safe_load, save_checkpoint_atomic


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='AVMAE or MAViL checkpoint (path or URL)')
    parser.add_argument('dst', help='output .pth')
    args = parser.parse_args(argv)
    try:
        state = unwrap_state_dict(safe_load(args.src))
        layout = detect_layout(state) if any(k.startswith('backbone.') for k in state) else None
        if layout not in ('avmae', 'mavil'):
            raise ValueError(f'not an AVMAE or MAViL pretraining checkpoint (layout: {layout}; '
                             f'first keys: {list(state)[:5]})')
        state, _ = to_mmav(state, layout)
    except (KeyError, OSError, RuntimeError, TypeError, ValueError) as e:
        print(f'error: {args.src}: {e}', file=sys.stderr)
        return 1
    save_checkpoint_atomic(dict(state_dict=state, meta=dict(source=args.src, layout='mmav')),
                           args.dst)
    video = sum(k.startswith('backbone.') for k in state)
    audio = sum(k.startswith('audio_backbone.') for k in state)
    print(f'wrote {args.dst}: {video} video encoder tensors, {audio} audio encoder tensors')
    return 0


if __name__ == '__main__':
    sys.exit(main())
