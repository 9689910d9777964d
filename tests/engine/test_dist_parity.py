"""2 processes x batch b (gloo, CPU, MMDistributedDataParallel) give the same
first-step loss and gradients as 1 process x batch 2b on the same samples, for
a tiny AVMaskEnhancer with cross-attention fusion and the TalkNet audio encoder."""
import os
import os.path as osp

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmaction.registry import MODELS
from mmengine.optim import OptimWrapper

import mmav_mask  # noqa: F401

B = 2  # per-process batch
TINY_AV = dict(
    type='AVMaskEnhancer',
    backbone=dict(type='MaskedVideoViT', img_size=32, num_frames=4,
                  arch=dict(embed_dims=32, depth=2, num_heads=2)),
    decoder=dict(type='VideoMAEDecoder', embed_dims=16, depth=1, num_heads=2),
    head=dict(type='PixelReconstructionHead', norm_pix=True),
    # BatchNorm statistics are per process in CPU DDP (torch's SyncBatchNorm
    # needs CUDA), so the parity holds with BN in eval mode (or sync_bn on GPU).
    audio_backbone=dict(type='TalkNetAudioEncoder', out_dim=32, num_tokens=4,
                        layers=(1, 1, 1, 1), widths=(4, 8, 8, 16), norm_eval=True),
    fusion=dict(type='CrossAttentionFusion', num_heads=2, dropout=0.0))


class RecordingOptimWrapper(OptimWrapper):
    """Keeps a copy of the gradients the optimizer is about to apply."""

    def step(self, **kwargs):
        self.grads = {n: p.grad.detach().clone() for n, p in self._named
                      if p.grad is not None}
        super().step(**kwargs)


def _batch(n):
    gen = torch.Generator().manual_seed(7)
    mask = torch.zeros(n, 2, 2, 2, dtype=torch.bool)
    for i in range(n):  # 2 of 4 patches masked per slice, tube-shaped
        idx = torch.randperm(4, generator=gen)[:2]
        mask[i, :, idx // 2, idx % 2] = True
    return dict(inputs=dict(imgs=torch.randn(n, 3, 4, 32, 32, generator=gen),
                            mask=mask,
                            audio=torch.randn(n, 16, 13, generator=gen),
                            audio_valid=torch.tensor([True, False, True, True][:n] * (n // 4 or 1))),
                data_samples=None)


def _slice(batch, lo, hi):
    return dict(inputs={k: v[lo:hi] for k, v in batch['inputs'].items()}, data_samples=None)


def _step(model, batch):
    model.train()  # as the runner does; applies norm_eval
    optim = torch.optim.SGD(model.parameters(), lr=0.0)
    wrapper = RecordingOptimWrapper(optim)
    wrapper._named = list((n.replace('module.', '', 1), p) for n, p in model.named_parameters())
    log_vars = model.train_step(batch, optim_wrapper=wrapper)
    return float(log_vars['loss']), wrapper.grads


def _worker(rank, world, tmp, state_path):
    from mmengine.model import MMDistributedDataParallel
    os.environ.update(MASTER_ADDR='127.0.0.1')
    dist.init_process_group('gloo', init_method=f'file://{tmp}/pg', rank=rank,
                            world_size=world)
    torch.set_num_threads(1)
    model = MODELS.build(TINY_AV)
    model.load_state_dict(torch.load(state_path, weights_only=True))
    ddp = MMDistributedDataParallel(module=model, broadcast_buffers=False)
    loss, grads = _step(ddp, _slice(_batch(2 * B), rank * B, (rank + 1) * B))
    torch.save(dict(loss=loss, grads=grads), osp.join(tmp, f'rank{rank}.pt'))
    dist.destroy_process_group()


def test_two_processes_match_one_process_double_batch(tmp_path):
    torch.manual_seed(0)
    model = MODELS.build(TINY_AV)
    state_path = str(tmp_path / 'init.pth')
    torch.save(model.state_dict(), state_path)
    ref_loss, ref_grads = _step(model, _batch(2 * B))
    assert len(ref_grads) > 20 and any(k.startswith('audio_backbone') for k in ref_grads)

    mp.start_processes(_worker, args=(2, str(tmp_path), state_path), nprocs=2,
                       start_method='fork')
    ranks = [torch.load(tmp_path / f'rank{r}.pt', weights_only=True) for r in range(2)]

    # the per-rank losses differ (different samples); their mean is the 2b loss
    assert ranks[0]['loss'] != ranks[1]['loss']
    assert abs((ranks[0]['loss'] + ranks[1]['loss']) / 2 - ref_loss) < 1e-5 * abs(ref_loss)
    # DDP averages gradients: both ranks hold the 2b gradient
    assert set(ranks[0]['grads']) == set(ref_grads)
    for name, ref in ref_grads.items():
        for r in range(2):
            torch.testing.assert_close(ranks[r]['grads'][name], ref, rtol=1e-4, atol=1e-6,
                                       msg=lambda m: f'{name} rank {r}: {m}')
    # and the test can fail: one half's gradient alone is not the 2b gradient
    _, half_grads = _step(model, _slice(_batch(2 * B), 0, B))
    assert any(not torch.allclose(half_grads[n], ref_grads[n], rtol=1e-3, atol=1e-6)
               for n in ref_grads)
