"""Convert an official VideoMAE pretraining checkpoint to mmav-mask key names.

Usage:
    python tools/convert/videomae_to_mmav.py IN.pth OUT.pth

IN is read tensors-only (``weights_only=True``). OUT holds
``{'state_dict': ..., 'meta': {...}}`` with ``backbone.*``, ``decoder.*``,
``fusion.encoder_to_decoder.weight`` and ``mask_token``: usable as
``load_from``, ``init_cfg=dict(type='Pretrained', checkpoint=OUT)`` or the
model's ``pretrained=OUT``.
"""
from __future__ import annotations

import argparse
import io
import os
import os.path as osp
import sys
import tempfile

import torch


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='official VideoMAE checkpoint (.pth)')
    parser.add_argument('dst', help='output file')
    return parser.parse_args(argv)


def _atomic_save(obj, path: str) -> None:
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(path) + '.', dir=directory)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(buffer.getvalue())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmav_mask.models.utils.videomae_checkpoint import (convert_videomae_state_dict,
                                                            unwrap_state_dict)
    from mmav_mask.utils import load_external_weights

    source = unwrap_state_dict(load_external_weights(args.src, map_location='cpu'))
    converted = convert_videomae_state_dict(source)
    groups = {}
    for key in converted:
        groups[key.split('.')[0]] = groups.get(key.split('.')[0], 0) + 1
    _atomic_save(dict(state_dict=converted,
                      meta=dict(source=osp.basename(args.src), format='mmav_mask')),
                 args.dst)
    dropped = len(source) - len(converted)
    print(f'converted {len(converted)} tensors ({", ".join(f"{k}: {v}" for k, v in sorted(groups.items()))}); '
          f'dropped {dropped} fixed position tables -> {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
