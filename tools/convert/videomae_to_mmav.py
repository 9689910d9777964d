"""Convert an official VideoMAE pretraining checkpoint to mmav-mask key names.

Usage:
    python tools/convert/videomae_to_mmav.py IN.pth OUT.pth

IN (a path or URL) is read tensors-only (``mmav_mask.utils.safe_load``). OUT
holds ``{'state_dict': ..., 'meta': {...}}`` with ``backbone.*``,
``decoder.*``, ``fusion.encoder_to_decoder.weight`` and ``mask_token``: usable
as ``load_from``, ``init_cfg=dict(type='Pretrained', checkpoint=OUT)`` or the
model's ``pretrained=OUT``. The key mapping lives in
``mmav_mask.models.checkpoint_layouts`` (``filter_videomae``).
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='official VideoMAE checkpoint (.pth path or URL)')
    parser.add_argument('dst', help='output file')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import mmav_mask  # noqa: F401  (registers the safe loaders)
    from mmav_mask.models.checkpoint_layouts import to_mmav, unwrap_state_dict
    from mmav_mask.utils import safe_load, save_checkpoint_atomic

    source = unwrap_state_dict(safe_load(args.src, map_location='cpu'))
    converted, layout = to_mmav(source)
    groups = {}
    for key in converted:
        groups[key.split('.')[0]] = groups.get(key.split('.')[0], 0) + 1
    save_checkpoint_atomic(dict(state_dict=converted,
                                meta=dict(source=osp.basename(args.src), source_layout=layout,
                                          format='mmav_mask')), args.dst)
    dropped = len(source) - len(converted)
    print(f'{layout} layout: converted {len(converted)} tensors '
          f'({", ".join(f"{k}: {v}" for k, v in sorted(groups.items()))}); '
          f'dropped {dropped} fixed position tables -> {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
