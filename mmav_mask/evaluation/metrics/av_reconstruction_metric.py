"""Reconstruction metric of audio-visual MAEs: the video metric plus masked audio MSE."""
from __future__ import annotations

from typing import Any, Dict, List, Sequence

from mmaction.registry import METRICS

from .reconstruction_metric import ReconstructionMetric, _scalar


@METRICS.register_module()
class AVReconstructionMetric(ReconstructionMetric):
    """:class:`ReconstructionMetric` for models that reconstruct audio too (``AVMAE``).

    Video figures are the parent's, computed on the samples that carry
    ``rec_mse`` / ``rec_pixel_mse`` / ``rec_psnr``; with ``rec_audio_mse``
    (MSE of the masked spectrogram patches in the audio head's target space)
    it also reports ``audio_masked_mse``, its mean over samples. A model that
    predicts only audio (``objective='inpaint_audio'``) reports only that.

    Args:
        collect_device: 'cpu' or 'gpu' for gathering results across ranks.
        prefix: key prefix (default ``'rec'``).
    """

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Keeps the parent's entry (or None) and the audio MSE (or None) per sample."""
        for sample in data_samples:
            get = sample.get if isinstance(sample, dict) else (
                lambda key, s=sample: getattr(s, key, None))
            video_entry = None
            if get('rec_mse') is not None:
                super().process(data_batch, [sample])
                video_entry = self.results.pop()
            audio = get('rec_audio_mse')
            if video_entry is None and audio is None:
                raise KeyError('AVReconstructionMetric needs rec_mse/rec_pixel_mse/rec_psnr '
                               'and/or rec_audio_mse on each prediction (AVMAE predict mode).')
            self.results.append((video_entry, None if audio is None else _scalar(audio)))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """Parent's video means plus ``audio_masked_mse``."""
        if not results:
            raise ValueError('AVReconstructionMetric received no samples.')
        metrics: Dict[str, float] = {}
        video = [r[0] for r in results if r[0] is not None]
        if video:
            metrics.update(super().compute_metrics(video))
        audio = [r[1] for r in results if r[1] is not None]
        if audio:
            metrics['audio_masked_mse'] = sum(audio) / len(audio)
        return metrics


__all__ = ['AVReconstructionMetric']
