"""A tiny model and dataset with randomness on both sides (pipeline and model),
used to check the engine pieces without the real model."""
from __future__ import annotations

import os

import numpy as np
import torch
from mmengine.model import BaseModel
from torch import nn
from torch.utils.data import Dataset


_RUNS = 0


class RandomAugDataset(Dataset):
    """Fixed inputs; each fetch draws a random 'mask' and noise from the global
    numpy generator, like a random augmentation in the main process."""

    def __init__(self, length: int = 8, dim: int = 6) -> None:
        gen = torch.Generator().manual_seed(1234)
        self.x = torch.randn(length, dim, generator=gen)
        self.y = torch.randn(length, 2, generator=gen)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, idx: int) -> dict:
        mask = torch.from_numpy(np.random.rand(self.x.shape[1]) > 0.5).float()
        noise = torch.from_numpy(np.random.randn(self.x.shape[1])).float() * 0.1
        return dict(inputs=self.x[idx] * mask + noise, target=self.y[idx])


class ToyModel(BaseModel):
    """Linear -> dropout -> linear; the loss can be forced non-finite."""

    def __init__(self, dim: int = 6, p: float = 0.3) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, 16)
        self.drop = nn.Dropout(p)
        self.fc2 = nn.Linear(16, 2)
        self.poison_iters = set()  # forward calls (0-based) whose loss is NaN
        self.calls = 0

    def forward(self, inputs, target=None, mode='tensor'):
        out = self.fc2(self.drop(torch.relu(self.fc1(inputs))))
        if mode == 'loss':
            loss = ((out - target) ** 2).mean()
            if self.calls in self.poison_iters:
                loss = loss * float('nan')
            self.calls += 1
            return dict(loss=loss)
        return out


class LossRecorder:
    """Hook (duck-typed registrable) that keeps the loss of each iteration."""

    def __init__(self) -> None:
        from mmengine.hooks import Hook

        recorder = self

        class _Hook(Hook):
            priority = 'LOWEST'

            def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
                recorder.losses[runner.iter + 1] = float(outputs['loss'].detach())

        self.losses = {}
        self.hook = _Hook()


class CrashAfter:
    """Hook raising after iteration ``k`` (its checkpoint is written first)."""

    class Crash(RuntimeError):
        pass

    def __init__(self, k: int) -> None:
        from mmengine.hooks import Hook
        k_ = k

        class _Hook(Hook):
            priority = 'LOWEST'  # after CheckpointHook (VERY_LOW)

            def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
                if runner.iter + 1 == k_:
                    raise CrashAfter.Crash(f'simulated crash after iteration {k_}')

        self.hook = _Hook()


def collate(batch):
    return dict(inputs=torch.stack([b['inputs'] for b in batch]),
                target=torch.stack([b['target'] for b in batch]))


def toy_runner_cfg(work_dir: str, max_iters: int, ckpt_interval: int, seed: int = 0,
                   num_workers: int = 0, batch_size: int = 2, length: int = 8,
                   custom_hooks=None, resume: bool = False, max_keep_ckpts: int = -1,
                   model=None, by_epoch: bool = False) -> dict:
    """Keyword arguments for ``mmengine.runner.Runner``."""
    global _RUNS
    _RUNS += 1
    if model is None:
        torch.manual_seed(seed)  # the instance is built before Runner seeds
        model = ToyModel()
    return dict(
        experiment_name=f'toy_{os.getpid()}_{_RUNS}',
        model=model,
        work_dir=work_dir,
        train_dataloader=dict(
            dataset=RandomAugDataset(length),
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=collate,
            batch_size=batch_size,
            num_workers=num_workers,
            persistent_workers=False),
        train_cfg=(dict(by_epoch=True, max_epochs=max_iters, val_interval=10 ** 9) if by_epoch
                   else dict(by_epoch=False, max_iters=max_iters, val_interval=10 ** 9)),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=0.05, weight_decay=0.01)),
        param_scheduler=[dict(type='LinearLR', start_factor=0.2, by_epoch=False, begin=0,
                              end=6)],
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=ckpt_interval, by_epoch=by_epoch,
                            max_keep_ckpts=max_keep_ckpts),
            logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=custom_hooks or [],
        randomness=dict(seed=seed, deterministic=True),
        resume=resume,
        default_scope='mmaction',
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        log_level='WARNING')
