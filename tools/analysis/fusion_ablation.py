"""Does the audio fusion help? Train 'cross_attention', 'concat' and 'none' on
the same data with the same budget and compare held-out masked MSE.

    python tools/analysis/fusion_ablation.py [CONFIG] [--data-root DIR]
        [--work-dir DIR] [--fusions cross_attention concat none] [--iters N]
        [--seed S] [--eval-clips K] [--batch-size B] [--lr LR]
        [--mask-ratio R] [--cfg-options k=v ...]

For every fusion the pretraining config is loaded and only the fusion is
swapped by config overrides (``model.fusion``; for ``'none'`` also
``model.audio_backbone=None``: VideoMAE). Each variant is trained by
mmengine's ``Runner`` (``IterBasedTrainLoop``) with

* the same seed (``randomness.seed``, sampler seed and dataloader worker
  seeds), hence the same data order, crops and training masks; a hook hashes
  every training batch's inputs (clips, audio, masks) and the report says
  whether all variants saw identical batches;
* the same budget: iterations, batch size, learning rate and schedule
  (linear warm-up + cosine, no automatic lr scaling).

Then ``runner.test()`` evaluates the held-out split (the config's test list,
``ucf101_val_split_1_videos.txt`` of the demo data) with
``ReconstructionMetric``: masked MSE in the loss's target space (VideoMAE's
normalised pixels) and PSNR of the de-normalised masked tubelets. Test masks
are fixed per (seed, clip file, view), so all variants are scored on the same
masked tubelets; ``--eval-clips`` evenly spaced clips per held-out video (one
mask each) average out the choice of window.

Checks that the comparison is what it claims (reported per variant):

* ``audio params``: parameters of the audio encoder and of the fusion beyond
  VideoMAE's ``encoder_to_decoder`` (0 for 'none');
* the audio that reached the model (fraction of valid samples, mean |feature|);
* ``audio share``: mean norm of the fusion's audio term (``audio_to_decoder``
  output) over the mean norm of its video term on the held-out set;
* ``shuffled-audio MSE``: the held-out MSE of the same model when every clip
  gets another clip's audio (rotated within the batch). Above the matched-audio
  MSE means the model uses the audio of *its* clip.

Without ``--data-root`` (or when that folder has no lists) the demo dataset is
generated (``tools/data/make_demo_dataset.py``) into ``WORK_DIR/demo_data``.
Writes ``WORK_DIR/fusion_ablation.json`` and ``.md`` and prints the table.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import math
import os
import os.path as osp
import platform
import subprocess
import sys
import time
import zlib
from typing import Dict, List, Optional

import numpy as np
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIGS = ('configs/avmask_demo_ablation.py', 'configs/avmask_demo_tiny.py')
TRAIN_LIST = 'ucf101_train_split_1_videos.txt'
TEST_LIST = 'ucf101_val_split_1_videos.txt'

# fusion name -> model.fusion type ('none' also drops the audio backbone)
FUSIONS = {
    'cross_attention': 'CrossAttentionFusion',
    'concat': 'ConcatFusion',
    'decoder_all_tokens': 'DecoderAllTokensFusion',
    'none': 'NoFusion',
}
# keyword arguments each fusion type accepts besides the widths
FUSION_KWARGS = {
    'CrossAttentionFusion': ('num_heads', 'dropout'),
    'ConcatFusion': ('audio_norm', ),
    'DecoderAllTokensFusion': ('num_heads', 'dropout'),
    'NoFusion': (),
}
WIDTH_KEYS = ('video_dim', 'decoder_dim', 'audio_dim')


def default_config() -> str:
    for rel in DEFAULT_CONFIGS:
        if osp.isfile(osp.join(REPO, rel)):
            return osp.join(REPO, rel)
    return osp.join(REPO, DEFAULT_CONFIGS[0])


def parse_args(argv=None):
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('config', nargs='?', default=None,
                   help=f'pretraining config (default: the first of {DEFAULT_CONFIGS} '
                        'that exists)')
    p.add_argument('--data-root', default=None,
                   help='demo data root (lists + videos/); generated when absent')
    p.add_argument('--work-dir', default='work_dirs/fusion_ablation')
    p.add_argument('--fusions', nargs='+', default=['cross_attention', 'concat', 'none'],
                   choices=sorted(FUSIONS))
    p.add_argument('--iters', type=int, default=None,
                   help='training iterations per variant (default: the config\'s '
                        'max_iters for an iteration-based loop, else 600)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--eval-clips', type=int, default=4,
                   help='evenly spaced clips per held-out video (each with its own fixed mask)')
    p.add_argument('--batch-size', type=int, default=None, help='default: the config\'s')
    p.add_argument('--lr', type=float, default=None, help='default: the config\'s')
    p.add_argument('--warmup-ratio', type=float, default=0.1,
                   help='fraction of the iterations with linear warm-up (then cosine)')
    p.add_argument('--mask-ratio', type=float, default=0.9,
                   help='tube mask ratio in training and evaluation')
    p.add_argument('--num-workers', type=int, default=1,
                   help='training dataloader workers (persistent, seeded)')
    p.add_argument('--threads', type=int, default=1,
                   help='torch CPU threads (1 leaves a core to the data worker)')
    p.add_argument('--clips-per-class', type=int, default=16,
                   help='demo data generation: clips per class')
    p.add_argument('--num-classes', type=int, default=4,
                   help='demo data generation: classes')
    p.add_argument('--duration', type=float, default=3.0,
                   help='demo data generation: seconds per clip')
    p.add_argument('--no-shuffled-audio', action='store_true',
                   help='skip the shuffled-audio evaluation of the audio variants')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='extra overrides applied to every variant')
    return p.parse_args(argv)


# ------------------------------------------------------------- registered pieces
def register_components() -> None:
    """Ablation-only transform and hook (registered once, idempotent)."""
    from mmaction.registry import HOOKS, TRANSFORMS
    from mmav_mask.datasets.transforms.masking import TubeMaskGenerator
    from mmengine.hooks import Hook

    if 'FixedTubeMaskGenerator' not in TRANSFORMS.module_dict:

        @TRANSFORMS.register_module()
        class FixedTubeMaskGenerator(TubeMaskGenerator):
            """Tube masks that depend only on (seed, file name, view): every model
            and every run scores the same masked tubelets. One mask per view
            (V, T', H', W') when the clip has several views."""

            def __init__(self, seed: int = 0, **kwargs) -> None:
                super().__init__(**kwargs)
                self.seed = int(seed)

            def transform(self, results: Dict) -> Dict:
                tg, hg, wg = self._grid(self.input_size or _one_view_size(results))
                name = osp.basename(str(results.get('filename', results.get('sample_idx'))))
                imgs = results.get('imgs')
                views = imgs.shape[0] if isinstance(imgs, np.ndarray) and imgs.ndim == 5 else 1
                num_masked = int(self.mask_ratio * hg * wg)
                masks = []
                for v in range(views):
                    rng = np.random.default_rng([self.seed, zlib.crc32(name.encode()), v])
                    flat = np.zeros(hg * wg, dtype=bool)
                    flat[rng.permutation(hg * wg)[:num_masked]] = True
                    masks.append(np.broadcast_to(flat.reshape(1, hg, wg), (tg, hg, wg)))
                results[self.key] = np.stack(masks) if views > 1 else masks[0].copy()
                return results

    if 'AblationProbeHook' not in HOOKS.module_dict:

        @HOOKS.register_module()
        class AblationProbeHook(Hook):
            """Hashes training batches (same data for every variant?), and in
            testing records what audio reached the model, the fusion's audio
            and video term norms, and optionally rotates the audio within
            each batch (shuffled-audio control)."""

            priority = 'VERY_LOW'

            def __init__(self) -> None:
                self.train_hash = hashlib.sha1()
                self.test_hash = hashlib.sha1()
                self.shuffle_audio = False
                self.stats = {}
                self._handles = []

            @staticmethod
            def _update(h, data_batch) -> None:
                inputs = data_batch['inputs']  # pseudo_collate: dict of per-sample lists
                for key in sorted(inputs):
                    h.update(key.encode())
                    for value in inputs[key]:
                        h.update(value.detach().cpu().contiguous().numpy().tobytes())

            def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
                self._update(self.train_hash, data_batch)

            def before_test(self, runner) -> None:
                self.stats = dict(samples=0, valid=0, audio_abs=0.0, audio_norm=0.0,
                                  video_norm=0.0, term_batches=0, rotated=0)
                model = runner.model.module if hasattr(runner.model, 'module') else runner.model
                fusion = getattr(model, 'fusion', None)
                self._last = {}
                if fusion is None:
                    return
                for name in ('encoder_to_decoder', 'audio_to_decoder'):
                    mod = getattr(fusion, name, None)
                    if mod is not None:
                        self._handles.append(mod.register_forward_hook(
                            lambda m, i, o, name=name: self._last.__setitem__(
                                name, float(o.detach().float().norm(dim=-1).mean()))))

            def before_test_iter(self, runner, batch_idx, data_batch=None) -> None:
                inputs = data_batch['inputs']
                num = len(inputs['imgs'])
                if self.shuffle_audio and num > 1 and 'audio' in inputs:
                    # clip i gets clip i+1's audio (and its validity flag)
                    for key in ('audio', 'audio_valid'):
                        if key in inputs:
                            inputs[key] = inputs[key][1:] + inputs[key][:1]
                    self.stats['rotated'] += num
                if not self.shuffle_audio:
                    self._update(self.test_hash, data_batch)
                self.stats['samples'] += num
                for i, audio in enumerate(inputs.get('audio', [])):
                    valid = inputs['audio_valid'][i] if 'audio_valid' in inputs else True
                    self.stats['valid'] += int(bool(valid))
                    self.stats['audio_abs'] += float(audio.float().abs().mean())
                self._last.clear()

            def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
                if 'encoder_to_decoder' in self._last:
                    self.stats['video_norm'] += self._last['encoder_to_decoder']
                    self.stats['audio_norm'] += self._last.get('audio_to_decoder', 0.0)
                    self.stats['term_batches'] += 1

            def after_test(self, runner) -> None:
                for h in self._handles:
                    h.remove()
                self._handles = []


def _one_view_size(results: Dict):
    from mmav_mask.datasets.transforms.masking import _video_size
    return _video_size(results)


# -------------------------------------------------------------------- data
def ensure_data(args) -> str:
    root = args.data_root
    if root and osp.isfile(osp.join(root, TRAIN_LIST)) and osp.isfile(osp.join(root, TEST_LIST)):
        return osp.abspath(root)
    root = osp.abspath(root or osp.join(args.work_dir, 'demo_data'))
    if not (osp.isfile(osp.join(root, TRAIN_LIST)) and osp.isfile(osp.join(root, TEST_LIST))):
        cmd = [sys.executable, osp.join(REPO, 'tools', 'data', 'make_demo_dataset.py'),
               '--out', root, '--seed', str(args.seed),
               '--num-classes', str(args.num_classes),
               '--clips-per-class', str(args.clips_per_class),
               '--duration', str(args.duration)]
        print('generating the demo data:', ' '.join(cmd), flush=True)
        subprocess.run(cmd, check=True)
    return root


# ----------------------------------------------------------------- configs
def _pipeline_step(pipeline, type_name):
    return [step for step in pipeline if step.get('type') == type_name]


def _dataset_cfg(loader):
    ds = loader['dataset']
    while 'dataset' in ds and ds.get('type') in ('RepeatDataset', 'ConcatDataset',
                                                 'ClassBalancedDataset'):
        ds = ds['dataset']
    return ds


def fusion_model_cfg(model_cfg, fusion: str):
    """The model config with its fusion swapped (and no audio encoder for 'none')."""
    model_cfg = copy.deepcopy(model_cfg)
    target = FUSIONS[fusion]
    old = dict(model_cfg.get('fusion') or {})
    new = dict(type=target)
    for key in WIDTH_KEYS + FUSION_KWARGS[target]:
        if key in old:
            new[key] = old[key]
    if fusion == 'none':
        new.pop('audio_dim', None)
        model_cfg['audio_backbone'] = None
    elif model_cfg.get('audio_backbone') is None:
        raise ValueError(f"fusion '{fusion}' needs an audio_backbone in the config's model")
    model_cfg['fusion'] = new
    return model_cfg


def variant_cfg(base_cfg, args, fusion: str, data_root: str, iters: int):
    """Config of one variant: the base config + overrides (fusion, data, budget)."""
    from mmengine.config import ConfigDict
    cfg = copy.deepcopy(base_cfg)
    cfg.model = fusion_model_cfg(cfg.model, fusion)
    cfg.work_dir = osp.join(osp.abspath(args.work_dir), fusion)
    cfg.experiment_name = f'fusion_ablation_{fusion}'  # the Runner adds a timestamp
    cfg.randomness = dict(seed=args.seed, deterministic=False, diff_rank_seed=False)
    cfg.launcher = 'none'
    cfg.load_from, cfg.resume = None, False

    # data: train list for training, held-out list with fixed masks for testing
    train = cfg.train_dataloader
    if args.batch_size:
        train.batch_size = args.batch_size
    train.num_workers = args.num_workers
    train.persistent_workers = args.num_workers > 0
    # InfiniteSampler: same seeded order for every variant, and no 2 s pause at the
    # end of each pass (mmengine's restart of a finite loader in IterBasedTrainLoop)
    train.sampler = dict(type='InfiniteSampler', shuffle=True, seed=args.seed)
    tds = _dataset_cfg(train)
    tds.ann_file = osp.join(data_root, TRAIN_LIST)
    tds.data_prefix = dict(video=osp.join(data_root, 'videos'))
    for step in _pipeline_step(tds.pipeline, 'TubeMaskGenerator'):
        if args.mask_ratio is not None:
            step['mask_ratio'] = args.mask_ratio

    test = copy.deepcopy(cfg.get('test_dataloader') or cfg.get('val_dataloader'))
    if test is None:
        raise ValueError('the config has no test_dataloader / val_dataloader')
    test.num_workers, test.persistent_workers = 0, False
    test.sampler = dict(type='DefaultSampler', shuffle=False)
    eds = _dataset_cfg(test)
    eds.ann_file = osp.join(data_root, TEST_LIST)
    eds.data_prefix = dict(video=osp.join(data_root, 'videos'))
    eds.test_mode = True
    pipeline = []
    for step in eds.pipeline:
        step = dict(step)
        if step.get('type') == 'SampleFrames':
            step.update(num_clips=args.eval_clips, test_mode=True)
        if step.get('type') == 'TubeMaskGenerator':
            step['type'] = 'FixedTubeMaskGenerator'
            step['seed'] = args.seed
            if args.mask_ratio is not None:
                step['mask_ratio'] = args.mask_ratio
        pipeline.append(step)
    if not _pipeline_step(pipeline, 'FixedTubeMaskGenerator'):
        raise ValueError('the test pipeline has no TubeMaskGenerator')
    eds.pipeline = pipeline
    cfg.test_dataloader = test
    cfg.test_evaluator = dict(type='ReconstructionMetric')
    cfg.test_cfg = dict(type='TestLoop')
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None

    # budget: iterations, lr (no auto scaling), warm-up + cosine
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=iters + 1)
    cfg.auto_scale_lr = dict(enable=False, base_batch_size=train.batch_size)
    if args.lr is not None:
        cfg.optim_wrapper.optimizer.lr = args.lr
    if not torch.cuda.is_available() and cfg.optim_wrapper.get('type') == 'AmpOptimWrapper':
        cfg.optim_wrapper.type = 'OptimWrapper'
        cfg.optim_wrapper.pop('dtype', None)
        cfg.optim_wrapper.pop('loss_scale', None)
    warmup = max(1, int(round(args.warmup_ratio * iters)))
    lr = cfg.optim_wrapper.optimizer.lr
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup),
        dict(type='CosineAnnealingLR', T_max=max(1, iters - warmup), eta_min=lr * 0.01,
             by_epoch=False, begin=warmup, end=iters)]

    hooks = cfg.get('default_hooks') or ConfigDict()
    hooks.logger = dict(type='LoggerHook', interval=max(1, iters // 10), ignore_last=False)
    hooks.checkpoint = dict(type='CheckpointHook', interval=iters, by_epoch=False,
                            save_last=True, max_keep_ckpts=1)
    hooks.pop('visualization', None)
    cfg.default_hooks = hooks
    cfg.custom_hooks = [h for h in (cfg.get('custom_hooks') or [])
                        if h.get('type') != 'AblationProbeHook']
    cfg.custom_hooks.append(dict(type='AblationProbeHook'))
    cfg.log_processor = dict(type='LogProcessor', window_size=max(1, min(20, iters // 10)),
                             by_epoch=False)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


# ------------------------------------------------------------------ running
def count_params(model) -> Dict[str, int]:
    total = sum(p.numel() for p in model.parameters())
    audio = 0
    if getattr(model, 'audio_backbone', None) is not None:
        audio += sum(p.numel() for p in model.audio_backbone.parameters())
    fusion = getattr(model, 'fusion', None)
    if fusion is not None:
        video_part = getattr(fusion, 'encoder_to_decoder', None)
        own = set(id(p) for p in video_part.parameters()) if video_part is not None else set()
        audio += sum(p.numel() for p in fusion.parameters() if id(p) not in own)
    return dict(params=total, audio_params=audio)


def _probe(runner):
    for hook in runner.hooks:
        if type(hook).__name__ == 'AblationProbeHook':
            return hook
    raise RuntimeError('AblationProbeHook missing')


def run_variant(cfg, fusion: str, shuffled: bool) -> Dict:
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    model = runner.model.module if hasattr(runner.model, 'module') else runner.model
    row = dict(fusion=fusion, fusion_type=type(model.fusion).__name__,
               has_audio_backbone=getattr(model, 'audio_backbone', None) is not None,
               **count_params(model))
    t0 = time.perf_counter()
    runner.train()
    row['train_time_s'] = time.perf_counter() - t0
    probe = _probe(runner)
    row['final_train_loss'] = _last_loss(runner)
    t0 = time.perf_counter()
    metrics = runner.test()
    row['eval_time_s'] = time.perf_counter() - t0
    row['masked_mse'] = float(metrics['rec/masked_mse'])
    row['psnr'] = float(metrics['rec/psnr'])
    row['pixel_mse'] = float(metrics['rec/pixel_mse'])
    st = probe.stats
    row['eval_samples'] = st['samples']
    row['audio_valid_fraction'] = st['valid'] / max(1, st['samples']) if model.uses_audio else 0.0
    row['audio_feature_abs_mean'] = (st['audio_abs'] / max(1, st['samples'])
                                     if model.uses_audio else 0.0)
    row['audio_share'] = (st['audio_norm'] / st['video_norm']
                          if st['term_batches'] and st['video_norm'] > 0 else 0.0)
    row['train_batches_sha1'] = probe.train_hash.hexdigest()
    row['eval_inputs_sha1'] = probe.test_hash.hexdigest()
    row['shuffled_audio_mse'] = None
    if shuffled and model.uses_audio:
        probe.shuffle_audio = True
        metrics = runner.test()
        probe.shuffle_audio = False
        row['shuffled_audio_mse'] = float(metrics['rec/masked_mse'])
    row['work_dir'] = cfg.work_dir
    return row


def _last_loss(runner) -> Optional[float]:
    try:
        return float(runner.message_hub.get_scalar('train/loss_rec').current())
    except Exception:  # noqa: BLE001 (the key depends on the head)
        try:
            return float(runner.message_hub.get_scalar('train/loss').current())
        except Exception:  # noqa: BLE001
            return None


# ------------------------------------------------------------------ report
HEADER = ('| fusion | params | audio params | train time (s) | held-out masked MSE | '
          'PSNR (dB) | delta vs none | shuffled-audio MSE | audio share |')


def _fmt(value, spec):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return '-'
    return format(value, spec)


def make_table(rows: List[Dict]) -> str:
    base = next((r for r in rows if r['fusion'] == 'none'), None)
    lines = [HEADER, '|' + '---|' * HEADER.count(' | ') + '---|']
    for r in rows:
        delta = None
        if base is not None:
            delta = r['masked_mse'] - base['masked_mse']
            r['delta_vs_none'] = delta
            r['delta_vs_none_pct'] = 100.0 * delta / base['masked_mse']
        d = ('-' if delta is None else
             f"{delta:+.4f} ({r['delta_vs_none_pct']:+.1f}%)")
        lines.append(
            f"| {r['fusion']} | {r['params']:,} | {r['audio_params']:,} | "
            f"{r['train_time_s']:.1f} | {r['masked_mse']:.4f} | {r['psnr']:.2f} | {d} | "
            f"{_fmt(r['shuffled_audio_mse'], '.4f')} | {_fmt(r['audio_share'], '.3f')} |")
    return '\n'.join(lines)


def main(argv=None) -> Dict:
    args = parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    import mmav_mask  # noqa: F401  (compat patches, registers components)
    from mmengine.config import Config
    register_components()

    config = args.config or default_config()
    os.makedirs(args.work_dir, exist_ok=True)
    data_root = ensure_data(args)
    base_cfg = Config.fromfile(config)
    iters = args.iters
    if iters is None:
        tc = base_cfg.get('train_cfg') or {}
        iters = tc.get('max_iters') if tc.get('type') == 'IterBasedTrainLoop' else None
        iters = iters or 600
    t_start = time.perf_counter()
    rows = []
    for fusion in args.fusions:
        cfg = variant_cfg(base_cfg, args, fusion, data_root, iters)
        print(f'=== {fusion}: training {iters} iterations, batch '
              f'{cfg.train_dataloader.batch_size}, lr {cfg.optim_wrapper.optimizer.lr:g}',
              flush=True)
        rows.append(run_variant(cfg, fusion, not args.no_shuffled_audio))
    table = make_table(rows)
    same_train = len({r['train_batches_sha1'] for r in rows}) == 1
    same_eval = len({r['eval_inputs_sha1'] for r in rows}) == 1
    cfg0 = variant_cfg(base_cfg, args, args.fusions[0], data_root, iters)
    setup = dict(
        config=osp.relpath(config, REPO) if config.startswith(REPO) else config,
        data_root=data_root, iters=iters, seed=args.seed,
        batch_size=cfg0.train_dataloader.batch_size,
        lr=cfg0.optim_wrapper.optimizer.lr, mask_ratio=args.mask_ratio,
        eval_clips=args.eval_clips, threads=args.threads, num_workers=args.num_workers,
        same_training_batches=same_train, same_eval_inputs=same_eval,
        total_time_s=time.perf_counter() - t_start,
        machine=f'{platform.machine()} {os.cpu_count()} CPUs, torch {torch.__version__}, '
                f'CUDA {"yes" if torch.cuda.is_available() else "no"}')
    result = dict(setup=setup, rows=rows, table=table)

    notes = [
        f"config {setup['config']}, data {data_root}, {iters} iterations x batch "
        f"{setup['batch_size']}, lr {setup['lr']:g}, mask ratio {args.mask_ratio}, "
        f"seed {args.seed}, {args.eval_clips} eval clip(s) per held-out video "
        f"({rows[0]['eval_samples'] if rows else 0} videos)",
        f'identical training batches across variants: {"yes" if same_train else "NO"}; '
        f'identical held-out inputs and masks: {"yes" if same_eval else "NO"}',
        'masked MSE: normalised-pixel target (= the loss), lower is better; delta vs none < 0 '
        'means the audio variant reconstructs better; shuffled-audio MSE: the same model '
        'with every clip given another clip\'s audio; audio share: |audio term| / '
        '|video term| at the fusion output.',
    ]
    md = '\n'.join(['# Fusion ablation', '', *[f'- {n}' for n in notes], '', table, ''])
    with open(osp.join(args.work_dir, 'fusion_ablation.json'), 'w') as f:
        json.dump(result, f, indent=2)
    with open(osp.join(args.work_dir, 'fusion_ablation.md'), 'w') as f:
        f.write(md)
    print()
    print(md)
    print(f"total {setup['total_time_s']:.0f} s; saved {osp.join(args.work_dir, 'fusion_ablation.json')} "
          f"and .md", flush=True)
    return result


if __name__ == '__main__':
    main()
