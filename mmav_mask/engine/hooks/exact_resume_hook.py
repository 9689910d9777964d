"""Makes an iteration-based run resumed with ``--resume`` repeat the losses of
the uninterrupted run exactly (CPU, deterministic mode).

What mmengine 0.10.7 already restores on resume: model, optimizer and
parameter-scheduler states, the message hub, the epoch/iteration counters, and
the data order (``IterBasedTrainLoop`` replays ``iter`` batches through the
dataloader, so ``DefaultSampler(seed=...)`` shuffles and ``set_epoch`` calls are
repeated and worker processes, seeded by ``worker_init_fn`` with
``seed + worker_id + rank * num_workers``, draw the same random numbers).

What it does not restore is the random state of the *main* process: after
resume the global torch / numpy / ``random`` generators are in whatever state
the replay left them, so dropout, drop-path, random masks drawn in the model
and any transform run in the main process (``num_workers=0``) differ from the
uninterrupted run. This hook removes that history dependence:

* before every fetch of a training batch the main-process generators are
  seeded from ``(seed, rank, batch index, 'data')`` (``IterBasedTrainLoop``:
  by wrapping the loop's batch iterator, so the batches replayed on resume are
  seeded like the originals; ``EpochBasedTrainLoop``, which resumes at epoch
  boundaries: at ``before_train_epoch`` and ``after_train_iter``);
* before every training step they are seeded from ``(seed, rank, iteration,
  'step')``.

So what a step draws depends only on the seed, the rank and the iteration,
never on how the process got there. ``configs/_base_/default_runtime.py`` puts
it in every config's ``custom_hooks`` with ``randomness = dict(seed=0,
deterministic=False)``: the random draws then repeat on resume. Bit-identical
losses also need deterministic kernels where the backend has others (CUDA):
``tools/train.py --deterministic`` (``randomness.deterministic=True``), as the
CPU test does. With ``num_workers > 0`` the data side stays exact through
mmengine's worker seeding and replay.
"""
from __future__ import annotations

import random
from typing import Any, Optional

import numpy as np
import torch
from mmaction.registry import HOOKS
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.runner import IterBasedTrainLoop

_STREAM_DATA = 1
_STREAM_STEP = 2


def seed_all(seed: int, rank: int, index: int, stream: int) -> None:
    """Seeds python, numpy and torch (CPU and CUDA) from a tuple of ints."""
    words = np.random.SeedSequence([seed & 0xFFFFFFFF, rank, index, stream]).generate_state(2)
    np_seed = int(words[0])
    torch_seed = (int(words[1]) << 32) | np_seed
    random.seed(torch_seed)
    np.random.seed(np_seed)
    torch.manual_seed(torch_seed)  # also seeds every CUDA device


class _SeededBatchIterator:
    """Wraps the loop's infinite dataloader iterator; reseeds before each fetch."""

    def __init__(self, inner: Any, seed: int, rank: int) -> None:
        self._inner = inner
        self._seed = seed
        self._rank = rank
        self.fetched = 0

    def __iter__(self):
        return self

    def __next__(self):
        seed_all(self._seed, self._rank, self.fetched, _STREAM_DATA)
        self.fetched += 1
        return next(self._inner)

    def __getattr__(self, name: str) -> Any:  # e.g. ``_epoch``, ``_dataloader``
        return getattr(self._inner, name)


@HOOKS.register_module()
class ExactResumeHook(Hook):
    """Seeds the main-process generators per batch fetch and per step.

    Args:
        seed: base seed; defaults to the runner's seed (``randomness.seed``).
    """

    priority = 'VERY_HIGH'

    def __init__(self, seed: Optional[int] = None) -> None:
        self.seed = seed
        self._seed_fetch_by_hooks = False

    def _base_seed(self, runner) -> int:
        return int(self.seed if self.seed is not None else runner.seed)

    def before_train(self, runner) -> None:
        loop = runner.train_loop
        self._seed_fetch_by_hooks = not isinstance(loop, IterBasedTrainLoop)
        if self._seed_fetch_by_hooks:
            return
        if not isinstance(loop.dataloader_iterator, _SeededBatchIterator):
            # Installed before the loop replays ``iter`` batches on resume, so
            # the replayed fetches are counted (and seeded) like the originals.
            loop.dataloader_iterator = _SeededBatchIterator(
                loop.dataloader_iterator, self._base_seed(runner), get_rank())

    def before_train_epoch(self, runner) -> None:
        if self._seed_fetch_by_hooks:  # the epoch's first batch is fetched next
            seed_all(self._base_seed(runner), get_rank(), runner.iter, _STREAM_DATA)

    def before_train_iter(self, runner, batch_idx: int, data_batch: Any = None) -> None:
        seed_all(self._base_seed(runner), get_rank(), runner.iter, _STREAM_STEP)

    def after_train_iter(self, runner, batch_idx: int, data_batch: Any = None,
                         outputs: Any = None) -> None:
        if self._seed_fetch_by_hooks:  # the next batch (global index iter + 1)
            seed_all(self._base_seed(runner), get_rank(), runner.iter + 1, _STREAM_DATA)
