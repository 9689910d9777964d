"""Reconstruction quality of masked tubelets: target-space MSE and pixel PSNR,
overall and, where the pipeline marks objects, on object and background
tubelets apart."""
from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric

REGIONS = ('object', 'background')


def _scalar(value: Any) -> float:
    return float(value.float().mean()) if hasattr(value, 'float') else float(value)


def _psnr(mse: float) -> float:
    return -10.0 * math.log10(max(mse, 1e-10))


@METRICS.register_module()
class ReconstructionMetric(BaseMetric):
    """Averages the reconstruction errors that ``AVMaskEnhancer`` puts on its
    predictions ('predict' mode).

    Reported keys (with ``prefix``, default ``'rec'``):
        ``masked_mse``: MSE on the masked tubelets in the head's target space
            (VideoMAE's normalised pixels when ``norm_pix``; this is the
            training loss, averaged per sample).
        ``pixel_mse``: MSE of the masked tubelets in [0, 1] pixels, clamped.
            With a normalised target each predicted tubelet is de-normalised
            with its ground-truth mean and std, so this figure borrows the
            ground truth's colour; with raw-pixel targets it is the model's own.
        ``psnr``: mean per-sample PSNR in dB (peak 1) of those pixels.
        ``psnr_of_mean``: PSNR of the dataset-mean pixel MSE.

    When every prediction carries ``rec_regions`` (the pipeline has
    ``LoadObjectMask``, i.e. the key ``object_mask``), also, for ``R`` in
    ``object`` and ``background`` (masked tubelets with at least / below the
    head's ``object_threshold`` of object pixels), pooled over all masked
    values of the dataset:
        ``R_masked_mse``, ``R_pixel_mse``, ``R_psnr`` (of ``R_pixel_mse``),
        and ``object_share``: the fraction of masked values that are object.

    Args:
        collect_device: 'cpu' or 'gpu' for gathering results across ranks.
        prefix: key prefix.
    """

    default_prefix: Optional[str] = 'rec'

    def __init__(self, collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Keeps three floats per sample and the (2, 3) region sums if present."""
        for sample in data_samples:
            get = sample.get if isinstance(sample, dict) else (
                lambda key, s=sample: getattr(s, key, None))
            values = [get(k) for k in ('rec_mse', 'rec_pixel_mse', 'rec_psnr')]
            if any(v is None for v in values):
                raise KeyError('ReconstructionMetric needs rec_mse, rec_pixel_mse and '
                               'rec_psnr on each prediction (AVMaskEnhancer predict mode).')
            regions = get('rec_regions')
            if regions is not None:
                regions = np.asarray(regions.cpu() if hasattr(regions, 'cpu') else regions,
                                     dtype=np.float64).reshape(2, 3)
            self.results.append((*(_scalar(v) for v in values), regions))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """Means over all samples; region figures pooled over masked values."""
        if not results:
            raise ValueError('ReconstructionMetric received no samples.')
        n = len(results)
        mse = sum(r[0] for r in results) / n
        pix = sum(r[1] for r in results) / n
        psnr = sum(r[2] for r in results) / n
        metrics = dict(masked_mse=mse, pixel_mse=pix, psnr=psnr, psnr_of_mean=_psnr(pix))
        if all(r[3] is not None for r in results):
            sums = np.sum([r[3] for r in results], axis=0)   # (2, 3)
            for (sse_target, sse_pixel, count), region in zip(sums, REGIONS):
                if count > 0:
                    metrics[f'{region}_masked_mse'] = float(sse_target / count)
                    metrics[f'{region}_pixel_mse'] = float(sse_pixel / count)
                    metrics[f'{region}_psnr'] = _psnr(float(sse_pixel / count))
            metrics['object_share'] = float(sums[0, 2] / max(sums[:, 2].sum(), 1.0))
        return metrics


__all__ = ['ReconstructionMetric', 'REGIONS']
