"""Reconstruction quality of masked tubelets: target-space MSE and pixel PSNR."""
from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Sequence

from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric


def _scalar(value: Any) -> float:
    return float(value.float().mean()) if hasattr(value, 'float') else float(value)


@METRICS.register_module()
class ReconstructionMetric(BaseMetric):
    """Averages the per-sample reconstruction errors that ``AVMaskEnhancer``
    puts on its predictions ('predict' mode).

    Reported keys (with ``prefix``, default ``'rec'``):
        ``masked_mse``: MSE on the masked tubelets in the head's target space
            (VideoMAE's normalised pixels when ``norm_pix``; this is the
            training loss, averaged per sample).
        ``pixel_mse``: MSE of the masked tubelets in [0, 1] pixels, after
            de-normalising each predicted tubelet with its ground-truth
            statistics and clamping to [0, 1].
        ``psnr``: mean per-sample PSNR in dB (peak 1) of those pixels.
        ``psnr_of_mean``: PSNR of the dataset-mean pixel MSE.

    Args:
        collect_device: 'cpu' or 'gpu' for gathering results across ranks.
        prefix: key prefix.
    """

    default_prefix: Optional[str] = 'rec'

    def __init__(self, collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Keeps three floats per sample (no tensors are accumulated)."""
        for sample in data_samples:
            get = sample.get if isinstance(sample, dict) else (
                lambda key, s=sample: getattr(s, key, None))
            values = [get(k) for k in ('rec_mse', 'rec_pixel_mse', 'rec_psnr')]
            if any(v is None for v in values):
                raise KeyError('ReconstructionMetric needs rec_mse, rec_pixel_mse and '
                               'rec_psnr on each prediction (AVMaskEnhancer predict mode).')
            self.results.append(tuple(_scalar(v) for v in values))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """Means over all samples."""
        if not results:
            raise ValueError('ReconstructionMetric received no samples.')
        n = len(results)
        mse = sum(r[0] for r in results) / n
        pix = sum(r[1] for r in results) / n
        psnr = sum(r[2] for r in results) / n
        return dict(masked_mse=mse, pixel_mse=pix, psnr=psnr,
                    psnr_of_mean=-10.0 * math.log10(max(pix, 1e-10)))


__all__ = ['ReconstructionMetric']
