"""Convert a VideoMAE-style ViT checkpoint to MMAction2's VisionTransformer.

Usage:
    python tools/convert/to_mmaction_vit.py IN OUT [--num-frames 16] [--img-size 224]
        [--no-mean-pooling] [--drop-head]

IN is one of
  * a pretraining checkpoint of this plugin (work_dirs/.../epoch_N.pth, encoder
    under ``backbone.``),
  * an official VideoMAE pretraining checkpoint (``{'model': {'encoder.*'...}}``),
  * an official VideoMAE fine-tuned checkpoint (unprefixed, with ``fc_norm``/``head``).
IN may be a path or a URL; it is read tensors-only (``mmav_mask.utils.safe_load``).

With --audio, OUT instead holds the pretraining checkpoint's audio encoder
(``audio_backbone.*``, or a TalkNet file's ``model.audioEncoder.*``, ->
``backbone.*``) for MMAction2's ``RecognizerAudio``
(configs/avmask_ucf101_finetune_audio.py, ``load_from=OUT``).

OUT is an mmengine checkpoint (``{'state_dict', 'meta'}``, tensors only) for a
``Recognizer3D`` with ``backbone=dict(type='VisionTransformer', ...)``; use it as
``model.backbone.init_cfg=dict(type='Pretrained', checkpoint=OUT, prefix='backbone.')``
or ``load_from=OUT``. After writing, the tool loads the result into a fresh
MMAction2 VisionTransformer and exits non-zero if any backbone key is missing.
"""
from __future__ import annotations

import argparse
import sys

import mmav_mask  # noqa: F401  (compat fixes before mmaction imports)
from mmav_mask.models.checkpoint_layouts import (check_mmaction_loadable, convert_checkpoint,
                                                 extract_audio_backbone)
from mmav_mask.utils import safe_load, save_checkpoint_atomic


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', metavar='IN', help='input checkpoint')
    parser.add_argument('dst', metavar='OUT', help='output checkpoint')
    parser.add_argument('--num-frames', type=int, default=16,
                        help='clip length of the MMAction2 model (pos_embed length)')
    parser.add_argument('--img-size', type=int, default=224,
                        help='input side of the MMAction2 model (pos_embed length)')
    parser.add_argument('--no-mean-pooling', action='store_true',
                        help='target use_mean_pooling=False: keep the final norm as '
                        'backbone.norm instead of initialising backbone.fc_norm with it')
    parser.add_argument('--drop-head', action='store_true',
                        help='do not write a fine-tuned classifier as cls_head.fc_cls')
    parser.add_argument('--audio', action='store_true',
                        help='write the audio encoder for RecognizerAudio instead of the ViT')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    checkpoint = safe_load(args.src, map_location='cpu')
    if args.audio:
        converted, count = extract_audio_backbone(checkpoint)
        print(f'audio encoder: {count} tensors (audio_backbone.* -> backbone.*, proj dropped)')
        _save(converted, args.dst)
        return 0
    mean_pooling = not args.no_mean_pooling
    converted, report = convert_checkpoint(checkpoint, num_frames=args.num_frames,
                                           img_size=args.img_size,
                                           mean_pooling=mean_pooling,
                                           keep_head=not args.drop_head)
    print(report.summary())
    missing, unexpected = check_mmaction_loadable(converted['state_dict'],
                                                  num_frames=args.num_frames,
                                                  img_size=args.img_size,
                                                  mean_pooling=mean_pooling)
    print(f'MMAction2 VisionTransformer: missing backbone keys {len(missing)}, '
          f'unexpected {len(unexpected)}')
    if missing or unexpected:
        print(f'  missing: {missing}\n  unexpected: {unexpected}', file=sys.stderr)
        return 1
    _save(converted, args.dst)
    return 0


def _save(checkpoint: dict, path: str) -> None:
    save_checkpoint_atomic(checkpoint, path)  # never leaves a half-written OUT behind
    print(f'wrote {path}')


if __name__ == '__main__':
    sys.exit(main())
