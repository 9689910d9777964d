"""``PackAVInputs``: pack video, audio features, masks and labels for the model."""
from __future__ import annotations

from typing import Dict, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS
from mmaction.structures import ActionDataSample


@TRANSFORMS.register_module()
class PackAVInputs(BaseTransform):
    """Pack one audio-visual sample (see docs/contract.md).

    ``inputs`` is a dict with, when produced by the pipeline:

    - ``imgs``: Tensor (V, C, T, H, W) as ``FormatShape('NCTHW')`` makes it
      (V = num_crops * num_clips, crop-major: view v shows clip v % num_clips).
    - ``audio``: float32 Tensor (V, L, F): ``audio_feature`` of clip
      v % num_clips tiled over the crops; the raw waveform (V, n_samples)
      when no feature transform ran.
    - ``audio_valid``: bool Tensor () (False = zeros stand in for audio).
    - each of ``mask_keys`` present (default ``mask``: bool (T', H', W'),
      ``audio_mask`` and MAViL's second views ``mask_view2``,
      ``audio_mask_view2``).

    ``data_samples`` is an ``ActionDataSample`` with ``gt_label`` when the
    sample has a label (>= 0 or a multi-class vector) and the ``meta_keys``,
    plus ``object_mask`` (bool (num_frames, H, W), from ``LoadObjectMask``)
    when the pipeline made one.

    With ``video_only=True`` ``inputs`` is the video tensor alone, exactly as
    MMAction2's ``PackActionInputs`` packs it, so a stock ``Recognizer3D`` +
    ``ActionDataPreprocessor`` trains on ``AVVideoDataset`` (audio and masks
    are left out of the batch; the data sample is the same).

    Args:
        mask_keys: mask keys to pack (those present). Defaults to ('mask',
            'audio_mask', 'mask_view2', 'audio_mask_view2').
        meta_keys: keys copied into the data sample's metainfo.
        video_only: emit MMAction2's standard inputs (see above).
    """

    def __init__(self, mask_keys: Sequence[str] = ('mask', 'audio_mask', 'mask_view2',
                                                   'audio_mask_view2'),
                 meta_keys: Sequence[str] = ('filename', 'img_shape', 'num_clips',
                                             'clip_len', 'frame_inds', 'avg_fps',
                                             'audio_window', 'sample_idx'),
                 video_only: bool = False) -> None:
        self.mask_keys = tuple(mask_keys)
        self.meta_keys = tuple(meta_keys)
        self.video_only = video_only

    def transform(self, results: Dict) -> Dict:
        """Return ``dict(inputs=dict(...) or Tensor, data_samples=ActionDataSample)``."""
        if self.video_only:
            if 'imgs' not in results:
                raise KeyError(f'PackAVInputs(video_only=True): no imgs in the sample '
                               f"({results.get('filename', '?')}); decode the video first")
            imgs = results['imgs']
            if isinstance(imgs, list):
                raise TypeError('PackAVInputs expects formatted imgs: put '
                                "FormatShape(input_format='NCTHW') before it")
            inputs = torch.from_numpy(np.ascontiguousarray(imgs)) if isinstance(
                imgs, np.ndarray) else torch.as_tensor(imgs)
            return dict(inputs=inputs, data_samples=self._data_sample(results))
        inputs = dict()
        num_views = None
        if 'imgs' in results:
            imgs = results['imgs']
            if isinstance(imgs, list):
                raise TypeError('PackAVInputs expects formatted imgs: put '
                                "FormatShape(input_format='NCTHW') before it")
            # copied here, in the worker: FormatShape's transposed view would keep
            # its channels-last strides through stack_batch and normalisation, and
            # the model would get a non-contiguous NCTHW batch
            imgs = torch.from_numpy(np.ascontiguousarray(imgs)) if isinstance(
                imgs, np.ndarray) else torch.as_tensor(imgs)
            if imgs.ndim == 4:  # FormatShape(collapse=True): one view
                imgs = imgs[None]
            inputs['imgs'] = imgs
            num_views = imgs.shape[0]
        audio = results.get('audio_feature', results.get('audio'))
        if audio is not None:
            audio = np.asarray(audio, dtype=np.float32)
            num_clips = audio.shape[0]
            if num_views is not None:
                if num_views % num_clips:
                    raise ValueError(f'{num_views} video views are not a multiple of '
                                     f'{num_clips} audio clips')
                # crop-major views: view v is clip v % num_clips
                audio = np.tile(audio, (num_views // num_clips, ) + (1, ) * (audio.ndim - 1))
            inputs['audio'] = torch.from_numpy(np.ascontiguousarray(audio))
        if 'audio_valid' in results:
            inputs['audio_valid'] = torch.tensor(bool(results['audio_valid']))
        for key in self.mask_keys:
            if key in results:
                inputs[key] = torch.from_numpy(np.ascontiguousarray(results[key], dtype=bool))
        return dict(inputs=inputs, data_samples=self._data_sample(results))

    def _data_sample(self, results: Dict) -> ActionDataSample:
        """Label, meta keys and the object mask of one sample."""
        data_sample = ActionDataSample()
        label = results.get('label')
        if label is not None:
            is_vector = isinstance(label, (torch.Tensor, np.ndarray)) and np.ndim(label) > 0
            if is_vector or int(label) >= 0:
                data_sample.set_gt_label(label)
        meta = {k: results[k] for k in self.meta_keys if k in results}
        if 'sample_idx' in meta:  # a KeyedSampler's SampleKey: keep dumps plain ints
            meta['sample_idx'] = int(meta['sample_idx'])
        data_sample.set_metainfo(meta)
        if 'object_mask' in results:  # (num_frames, H, W) bool, for region metrics
            data_sample.object_mask = torch.from_numpy(
                np.ascontiguousarray(results['object_mask'], dtype=bool))
        return data_sample

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(mask_keys={self.mask_keys}, '
                f'meta_keys={self.meta_keys}, video_only={self.video_only})')
