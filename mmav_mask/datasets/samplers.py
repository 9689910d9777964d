"""A sampler whose indices carry the run's seed and the epoch to the pipeline.

Random masks must not depend on which process or worker draws them, nor on
what that worker drew before: validation masks have to be the same in every
round and for any number of processes and workers, and training masks have to
be reproducible from (seed, epoch, sample) so a resumed run need not replay
the random state of skipped batches. A transform only sees the sample's
``results``; the one thing that travels from the main process to a (possibly
persistent) DataLoader worker with every sample is its index. So the sampler
hands out :class:`SampleKey` indices - plain ints to every consumer - that
also carry ``seed`` and ``epoch``, and mmengine's ``BaseDataset`` stores the
index as ``results['sample_idx']``, where ``TubeMaskGenerator`` /
``RandomMaskGenerator`` read it.

The epoch reaches the sampler the usual way (``set_epoch`` from
``DistSamplerSeedHook`` or the iteration loop); validation and test loops never
call it, so their key stays (seed, 0, index) for every round.
"""
from __future__ import annotations

from typing import Iterator

from mmaction.registry import DATA_SAMPLERS
from mmengine.dataset import DefaultSampler


class SampleKey(int):
    """A dataset index (an ``int``) that also names the sampler's seed and epoch.

    Args:
        index: dataset index.
        seed: the sampler's seed (the runner's ``randomness.seed`` by default).
        epoch: the sampler's epoch when the index was drawn.
    """

    seed: int
    epoch: int

    def __new__(cls, index: int, seed: int, epoch: int) -> 'SampleKey':
        obj = super().__new__(cls, index)
        obj.seed, obj.epoch = int(seed), int(epoch)
        return obj

    def __reduce__(self):  # pickled to DataLoader workers with the attributes
        return SampleKey, (int(self), self.seed, self.epoch)

    def __repr__(self) -> str:
        return f'SampleKey({int(self)}, seed={self.seed}, epoch={self.epoch})'


@DATA_SAMPLERS.register_module()
class KeyedSampler(DefaultSampler):
    """``DefaultSampler`` (same order, same sharding across ranks) yielding
    :class:`SampleKey` indices, for per-sample random masks.

    Use it wherever ``DefaultSampler`` would go:
    ``sampler=dict(type='KeyedSampler', shuffle=True)``.
    """

    def __iter__(self) -> Iterator[SampleKey]:
        seed, epoch = int(self.seed), int(self.epoch)
        for index in super().__iter__():
            yield SampleKey(index, seed, epoch)


__all__ = ['KeyedSampler', 'SampleKey']
