"""``LoadObjectMask``: the per-frame mask of the content that matters, for metrics."""
from __future__ import annotations

import os.path as osp
from typing import Dict

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS

# MMAction2 transforms that move pixels; a mask loaded after them would no longer
# line up with ``imgs`` (they mark their work with these keys).
_GEOMETRY_KEYS = ('crop_bbox', 'crop_quadruple', 'flip', 'lazy')


@TRANSFORMS.register_module()
class LoadObjectMask(BaseTransform):
    """Loads the object mask of the sampled frames from a sidecar file.

    The pipeline key ``object_mask`` (bool, (num_frames, H, W), one entry per
    sampled frame in ``frame_inds`` order, at the network's input size) tells
    ``ReconstructionMetric`` which pixels belong to the objects that matter, so
    it can score object and background tubelets apart. Any dataset can provide
    it: write ``<video stem><suffix>`` (an ``.npz`` with ``object_mask``
    (T_file, H_file, W_file) bool for every frame of the file), or put the key
    into ``results`` from a transform of your own. The demo data
    (``tools/data/make_demo_dataset.py``) writes such sidecars.

    Place it after the frames are decoded and resized and before
    ``FormatShape``, in evaluation pipelines: the mask is resized (nearest) to
    ``img_shape``, so crops and flips are refused rather than misaligned.

    Args:
        suffix: sidecar name = video path without extension + ``suffix``.
        missing: 'error' (name the file) or 'skip' (leave the key out, so the
            metric reports overall figures only for that clip).
    """

    def __init__(self, suffix: str = '.objects.npz', missing: str = 'error') -> None:
        if missing not in ('error', 'skip'):
            raise ValueError(f"missing must be 'error' or 'skip', got {missing!r}")
        self.suffix = suffix
        self.missing = missing

    def transform(self, results: Dict) -> Dict:
        """Adds ``object_mask`` (num_frames, H, W) bool."""
        filename = str(results['filename'])
        path = osp.splitext(filename)[0] + self.suffix
        if not osp.isfile(path):
            if self.missing == 'skip':
                return results
            raise FileNotFoundError(f'{filename}: no object mask sidecar {path} '
                                    "(use LoadObjectMask(missing='skip') to go without)")
        moved = [k for k in _GEOMETRY_KEYS if results.get(k) is not None
                 and results.get(k) is not False]
        if moved:
            raise ValueError(f'LoadObjectMask cannot follow a transform that crops or flips '
                             f'({", ".join(moved)} set) for {filename}: put it in an '
                             'evaluation pipeline with Resize only')
        with np.load(path) as data:
            if 'object_mask' not in data:
                raise KeyError(f'{path} has no array "object_mask"')
            masks = data['object_mask']
        inds = np.asarray(results['frame_inds']).reshape(-1)
        if masks.ndim != 3 or inds.max(initial=0) >= len(masks):
            raise ValueError(f'{path}: object_mask of shape {masks.shape} does not cover '
                             f'frame {int(inds.max(initial=0))} of {filename}')
        masks = masks[inds]
        h, w = results['img_shape'][:2]
        if masks.shape[1:] != (h, w):  # nearest-neighbour, pixel centres
            rows = ((np.arange(h) + 0.5) * masks.shape[1] / h).astype(int)
            cols = ((np.arange(w) + 0.5) * masks.shape[2] / w).astype(int)
            masks = masks[:, rows][:, :, cols]
        results['object_mask'] = masks.astype(bool)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(suffix={self.suffix!r}, missing={self.missing!r})'
