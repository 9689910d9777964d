"""Process-count independence on CPU (gloo).

* Training: 2 processes x batch b (MMDistributedDataParallel) give the same
  first-step loss and gradients as 1 process x batch 2b on the same samples, for
  a tiny AVMaskEnhancer with cross-attention fusion and the TalkNet audio encoder.
* Evaluation: ``tools/test.py`` (1 process, 2 workers) and ``tools/dist_test.sh``
  (2 processes, no workers) give the same test metrics for the same checkpoint,
  because ``KeyedSampler`` keys every validation mask on (seed, sample index).
"""
import json
import os
import os.path as osp
import socket
import subprocess
import sys
from glob import glob

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmaction.registry import MODELS
from mmengine.optim import OptimWrapper

import mmav_mask  # noqa: F401

pytestmark = pytest.mark.slow  # multi-process runs

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _test_metrics(cmd, work_dir):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHON=sys.executable,
               PORT=str(_free_port()))
    proc = subprocess.run(cmd + ['--work-dir', work_dir], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    logs = glob(osp.join(work_dir, '*', '*.json'))
    assert len(logs) == 1, logs
    with open(logs[0]) as f:
        metrics = json.loads(f.read().splitlines()[-1])
    return {k: v for k, v in metrics.items() if k.startswith('rec/')}


def test_test_metric_same_for_one_and_two_processes(tmp_path):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    data = tmp_path / 'demo'
    subprocess.run([sys.executable, 'tools/data/make_demo_dataset.py', '--out', str(data),
                    '--seed', '0', '--clips-per-class', '2'], cwd=REPO, check=True,
                   capture_output=True, timeout=120)
    config = osp.join(REPO, 'configs', 'avmask_demo_tiny.py')
    with DefaultScope.overwrite_default_scope('mmaction'):
        torch.manual_seed(0)
        model = MODELS.build(Config.fromfile(config).model)
    ckpt = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=1)), ckpt)
    options = ['--cfg-options',
               f'test_dataloader.dataset.ann_file={data}/ucf101_val_split_1_videos.txt',
               f'test_dataloader.dataset.data_prefix.video={data}/videos',
               'test_dataloader.sampler.type=KeyedSampler', 'randomness.seed=0']
    one = _test_metrics([sys.executable, 'tools/test.py', config, ckpt] + options +
                        ['test_dataloader.num_workers=2',
                         'test_dataloader.persistent_workers=True'], str(tmp_path / 'one'))
    two = _test_metrics(['bash', 'tools/dist_test.sh', config, ckpt, '2'] + options +
                        ['test_dataloader.num_workers=0',
                         'test_dataloader.persistent_workers=False'], str(tmp_path / 'two'))
    assert 'rec/masked_mse' in one and one.keys() == two.keys()
    for key, value in one.items():
        assert two[key] == pytest.approx(value, rel=1e-6, abs=1e-9), key
