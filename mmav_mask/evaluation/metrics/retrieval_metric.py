"""Audio-to-video retrieval over the test list (MAViL Sec. 4, Table 9)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

DIRECTIONS = ('a2v', 'v2a')


def _field(sample: Any, key: str) -> Any:
    """A field of a data sample, whether mmengine passed it as a dict or an element."""
    return sample.get(key) if isinstance(sample, dict) else getattr(sample, key, None)


def _vector(value: Any, key: str) -> np.ndarray:
    if value is None:
        raise KeyError(f'AVRetrievalMetric: a prediction has no {key!r}; the model\'s '
                       "predict mode must write 'audio_embedding' and 'video_embedding' "
                       '(D,) on each data sample (e.g. MAViL).')
    array = np.asarray(value.detach().cpu() if hasattr(value, 'detach') else value,
                       dtype=np.float32)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f'AVRetrievalMetric: {key!r} must be a (D,) vector, got shape '
                         f'{array.shape}')
    if not np.isfinite(array).all():
        raise ValueError(f'AVRetrievalMetric: {key!r} holds non-finite values')
    return array


def pessimistic_ranks(sim: np.ndarray) -> np.ndarray:
    """1-based rank of the true item (the diagonal) in each row of ``sim``.

    Ties rank pessimistically: every other item scoring at least as high as
    the true one is ranked before it, so a model that gives all items the
    same score gets rank N, not 1.

    Args:
        sim: (N, N) similarities, row = query, column = gallery item; the
            true item of query i is item i.

    Returns:
        (N,) int ranks in [1, N].
    """
    true = np.diag(sim)[:, None]
    ahead = (sim >= true).sum(1) - 1  # minus the true item itself
    return ahead + 1


@METRICS.register_module()
class AVRetrievalMetric(BaseMetric):
    """Audio-to-video retrieval: each clip's audio embedding is the query and
    the video embeddings of all clips of the test list are the gallery,
    ranked by cosine similarity (MAViL Sec. 4 "Audio-to-Video Retrieval").

    Reported keys (with ``prefix``, default ``'retrieval'``), for each
    direction ``d`` in ``directions`` ('a2v': audio query -> videos, 'v2a':
    video query -> audios):

    - ``d_R@K`` for K in ``topk``: percentage (0-100, as MMAction2's
      ``RetrievalMetric`` and the paper's tables) of queries whose own clip
      ranks within the first K.
    - ``d_median_rank``: median (``np.median``, so x.5 for an even count) of
      the 1-based ranks; ``d_mean_rank``: their mean.

    and, to compare against, the expected values of a random ranking of this
    list: ``chance_R@K`` = 100 * min(K, N) / N and ``chance_median_rank`` =
    (N + 1) / 2; ``num_queries`` = N.

    Ties rank pessimistically (:func:`pessimistic_ranks`): an embedding that
    collapsed to one vector scores chance-or-worse, never a perfect recall.

    A sample whose data sample carries ``audio_valid`` False (no audio in the
    clip) is not an audio query ('a2v'; its video stays in the gallery) and
    takes no part in 'v2a' (neither query nor gallery item). Samples are
    identified by
    ``sample_idx`` (else ``filename``); a repeated identifier (padding of a
    distributed sampler that reached the metric) is kept once.

    Args:
        topk: the K of the recalls.
        directions: subset of ('a2v', 'v2a').
        collect_device: 'cpu' or 'gpu' for gathering results across ranks.
        prefix: key prefix.
    """

    default_prefix: Optional[str] = 'retrieval'

    def __init__(self, topk: Sequence[int] = (1, 5, 10), directions: Sequence[str] = ('a2v', ),
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        bad = [d for d in directions if d not in DIRECTIONS]
        if bad or not directions:
            raise ValueError(f'directions must be a non-empty subset of {DIRECTIONS}, got '
                             f'{tuple(directions)}')
        if not topk or any(int(k) < 1 for k in topk):
            raise ValueError(f'topk must hold positive integers, got {tuple(topk)}')
        self.topk = tuple(int(k) for k in topk)
        self.directions = tuple(directions)

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Keeps (identifier, audio (D,), video (D,), audio_valid) per sample."""
        for sample in data_samples:
            audio = _vector(_field(sample, 'audio_embedding'), 'audio_embedding')
            video = _vector(_field(sample, 'video_embedding'), 'video_embedding')
            if audio.shape != video.shape:
                raise ValueError(f'AVRetrievalMetric: audio_embedding {audio.shape} and '
                                 f'video_embedding {video.shape} differ in size')
            ident = _field(sample, 'sample_idx')
            ident = _field(sample, 'filename') if ident is None else int(ident)
            valid = _field(sample, 'audio_valid')
            valid = True if valid is None else bool(valid)
            self.results.append((ident, audio, video, valid))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """Ranks the whole list for every query; see the class docstring."""
        if not results:
            raise ValueError('AVRetrievalMetric received no samples.')
        seen, kept = set(), []
        for item in results:
            if item[0] is not None and item[0] in seen:
                continue
            seen.add(item[0])
            kept.append(item)
        if len(kept) < len(results):
            MMLogger.get_current_instance().warning(
                f'AVRetrievalMetric: dropped {len(results) - len(kept)} repeated samples')
        audio = np.stack([r[1] for r in kept]).astype(np.float64)
        video = np.stack([r[2] for r in kept]).astype(np.float64)
        valid = np.array([r[3] for r in kept], dtype=bool)
        n = len(kept)
        audio /= np.maximum(np.linalg.norm(audio, axis=1, keepdims=True), 1e-12)
        video /= np.maximum(np.linalg.norm(video, axis=1, keepdims=True), 1e-12)
        sim = audio @ video.T  # (N audio, N video)
        metrics: Dict[str, float] = dict(num_queries=float(n))
        for direction in self.directions:
            if direction == 'a2v':
                ranks = pessimistic_ranks(sim)[valid]
            else:
                ranks = pessimistic_ranks(sim[valid][:, valid].T)
            if ranks.size == 0:
                raise ValueError('AVRetrievalMetric: no sample has audio (audio_valid False '
                                 'everywhere), so there is no audio query')
            for k in self.topk:
                metrics[f'{direction}_R@{k}'] = float(100.0 * np.mean(ranks <= k))
            metrics[f'{direction}_median_rank'] = float(np.median(ranks))
            metrics[f'{direction}_mean_rank'] = float(np.mean(ranks))
        for k in self.topk:
            metrics[f'chance_R@{k}'] = 100.0 * min(k, n) / n
        metrics['chance_median_rank'] = (n + 1) / 2.0
        return metrics


__all__ = ['AVRetrievalMetric', 'pessimistic_ranks']
