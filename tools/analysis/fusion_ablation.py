"""Does the audio help? Train fusion variants on the same data with the same
budget and seeds, and score the held-out reconstructions on the sounding
object and on the background apart.

    python tools/analysis/fusion_ablation.py [CONFIG] [--data-root DIR]
        [--work-dir DIR] [--variants cross_attention concat decoder_all_tokens none]
        [--seeds 0 1 2] [--targets raw norm] [--iters N] [--eval-clips K]
        [--batch-size B] [--lr LR] [--mask-ratio R] [--cfg-options k=v ...]

Variants (only the fusion and the audio encoder differ; config overrides):

* ``cross_attention`` (the paper), ``concat``, ``decoder_all_tokens`` (the
  authors' code) with the config's audio encoder;
* ``none``: VideoMAE, no audio encoder (video-only);
* ``oracle``: video-only plus the demo generator's per-frame parameters (note
  on/off, pitch, timbre, loudness, read from the clip's ``.objects.npz``) in
  place of the audio, through ``DecoderAllTokensFusion`` (every decoder token
  gets the parameters of its time slice). It shows how low the object error
  can go when what the sound says is given exactly; it is the check that the
  data is built as intended, not a method. ``oracle_cross_attention`` feeds
  the same parameters through the paper's cross-attention fusion: it separates
  "the audio encoder cannot hear it" from "the fusion route learns it slowly".

Targets: ``raw`` (``model.head.norm_pix=False``: [0, 1] pixels, whose MSE is
the object's colour error) and ``norm`` (VideoMAE's per-patch normalised
pixels). Every (target, seed, variant) trains with mmengine's ``Runner``
(``IterBasedTrainLoop``) with the same seed, data order, crops, training masks
(a hook hashes every batch; the report says whether all variants of a seed saw
identical batches), iterations, batch size and schedule.

Evaluation (``runner.test()`` on the held-out list, ``ReconstructionMetric``):
fixed tube masks per (seed, clip, view), ``--eval-clips`` evenly spaced clips
per video, and the object mask of each frame (``LoadObjectMask``), so every
figure comes for object tubelets and background tubelets apart. Audio
variants are also tested with *swapped* audio (each clip gets the next clip's
audio in the batch) and with *no* audio (``audio_valid`` False, the fusion's
video-only path).

Writes ``WORK_DIR/fusion_ablation.{json,md,png}`` and prints the table: mean
and standard deviation over seeds of the masked MSE in the target's space
(for ``raw`` that is the masked-pixel MSE), and the object-error ratio to
``none`` of the same seed and target.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
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

# variant -> model.fusion type ('none' also drops the audio encoder)
FUSIONS = {
    'cross_attention': 'CrossAttentionFusion',
    'concat': 'ConcatFusion',
    'decoder_all_tokens': 'DecoderAllTokensFusion',
    'none': 'NoFusion',
    'oracle': 'DecoderAllTokensFusion',
    'oracle_cross_attention': 'CrossAttentionFusion',
}
# keyword arguments each fusion type accepts besides the widths
FUSION_KWARGS = {
    'CrossAttentionFusion': ('num_heads', 'dropout'),
    'ConcatFusion': ('audio_norm', ),
    'DecoderAllTokensFusion': ('num_heads', 'dropout'),
    'NoFusion': (),
}
WIDTH_KEYS = ('video_dim', 'decoder_dim', 'audio_dim')
TARGETS = {'raw': False, 'norm': True}          # target -> model.head.norm_pix
AUDIO_MODES = ('matched', 'swapped', 'no_audio')
REGIONS = ('object', 'background')
NUM_PARAMS = 12                                  # on + 6 pitches + 4 timbres + loud


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
    p.add_argument('--variants', '--fusions', nargs='+', dest='variants',
                   default=['cross_attention', 'concat', 'decoder_all_tokens', 'none'],
                   choices=sorted(FUSIONS))
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    p.add_argument('--targets', nargs='+', default=['raw'], choices=sorted(TARGETS))
    p.add_argument('--iters', type=int, default=None,
                   help="training iterations per run (default: the config's max_iters "
                        'for an iteration-based loop, else 600)')
    p.add_argument('--eval-clips', type=int, default=2,
                   help='evenly spaced clips per held-out video (each with its own fixed mask)')
    p.add_argument('--batch-size', type=int, default=None, help="default: the config's")
    p.add_argument('--lr', type=float, default=None, help="default: the config's")
    p.add_argument('--warmup-ratio', type=float, default=0.1,
                   help='fraction of the iterations with linear warm-up (then cosine)')
    p.add_argument('--mask-ratio', type=float, default=0.9,
                   help='tube mask ratio in training and evaluation')
    p.add_argument('--num-workers', type=int, default=1,
                   help='training dataloader workers (persistent, seeded)')
    p.add_argument('--threads', type=int, default=1,
                   help='torch CPU threads (1 leaves a core to the data worker)')
    p.add_argument('--data-seed', type=int, default=0, help='demo data generation seed')
    p.add_argument('--clips-per-class', type=int, default=16,
                   help='demo data generation: clips per class')
    p.add_argument('--num-classes', type=int, default=4,
                   help='demo data generation: classes')
    p.add_argument('--duration', type=float, default=3.0,
                   help='demo data generation: seconds per clip')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='extra overrides applied to every run')
    return p.parse_args(argv)


# ------------------------------------------------------------- registered pieces
def register_components() -> None:
    """Ablation-only transforms, oracle encoder and probe hook (idempotent)."""
    from mmaction.registry import HOOKS, MODELS, TRANSFORMS
    from mmcv.transforms import BaseTransform
    from mmav_mask.datasets.transforms.masking import TubeMaskGenerator, _video_size
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
                tg, hg, wg = self._grid(self.input_size or _video_size(results))
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

    if 'LoadDemoParams' not in TRANSFORMS.module_dict:

        @TRANSFORMS.register_module()
        class LoadDemoParams(BaseTransform):
            """Oracle input: replaces ``audio_feature`` by the generator's per-frame
            parameters over each clip's audio window, one row per audio row:
            (num_clips, num_rows, 12) = [on, pitch one-hot (6), timbre one-hot (4),
            loud], zeros where no note sounds."""

            def __init__(self, num_rows: int = 128) -> None:
                self.num_rows = num_rows

            def transform(self, results: Dict) -> Dict:
                path = osp.splitext(str(results['filename']))[0] + '.objects.npz'
                with np.load(path) as data:
                    params = data['frame_params']                      # (T_file, 4)
                windows = np.asarray(results['audio_window'], np.float64).reshape(-1, 2)
                fps = float(results.get('avg_fps') or 25.0)
                rows = []
                for start, end in windows:
                    t = start + (np.arange(self.num_rows) + 0.5) * (end - start) / self.num_rows
                    frame = np.clip(np.floor(t * fps).astype(int), 0, len(params) - 1)
                    p = params[frame]
                    feat = np.zeros((self.num_rows, NUM_PARAMS), np.float32)
                    on = p[:, 0] > 0
                    feat[on, 0] = 1.0
                    feat[on, 1 + p[on, 1].astype(int)] = 1.0
                    feat[on, 7 + p[on, 2].astype(int)] = 1.0
                    feat[on, 11] = p[on, 3]
                    rows.append(feat)
                results['audio_feature'] = np.stack(rows)
                return results

    if 'DemoParamEncoder' not in MODELS.module_dict:

        @MODELS.register_module()
        class DemoParamEncoder(torch.nn.Module):
            """Oracle "audio" encoder: an MLP per parameter row, pooled over time.

            (B, L, 12) -> (B, num_tokens, out_dim), like ``TalkNetAudioEncoder``.
            """

            def __init__(self, out_dim: int, num_tokens: int = 8, hidden: int = 64,
                         in_dim: int = NUM_PARAMS) -> None:
                super().__init__()
                self.out_dim, self.num_tokens = out_dim, num_tokens
                self.mlp = torch.nn.Sequential(
                    torch.nn.Linear(in_dim, hidden), torch.nn.GELU(),
                    torch.nn.Linear(hidden, out_dim))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                x = self.mlp(x.flatten(0, -3) if x.dim() > 3 else x)
                return torch.nn.functional.adaptive_avg_pool1d(
                    x.transpose(1, 2), self.num_tokens).transpose(1, 2)

    if 'AblationProbeHook' not in HOOKS.module_dict:

        @HOOKS.register_module()
        class AblationProbeHook(Hook):
            """Hashes the training batches (same data for every variant?) and the
            held-out inputs; in testing applies the audio mode: 'matched',
            'swapped' (clip i gets clip i+1's audio, within the batch) or
            'no_audio' (``audio_valid`` False)."""

            priority = 'VERY_LOW'

            def __init__(self) -> None:
                self.train_hash = hashlib.sha1()
                self.test_hash = hashlib.sha1()
                self.audio_mode = 'matched'
                self.changed = 0

            @staticmethod
            def _update(h, data_batch) -> None:
                inputs = data_batch['inputs']  # pseudo_collate: dict of per-sample lists
                for key in sorted(inputs):
                    h.update(key.encode())
                    for value in inputs[key]:
                        h.update(value.detach().cpu().contiguous().numpy().tobytes())

            def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
                self._update(self.train_hash, data_batch)

            def before_test_iter(self, runner, batch_idx, data_batch=None) -> None:
                inputs = data_batch['inputs']
                num = len(inputs['imgs'])
                if self.audio_mode == 'matched':
                    self._update(self.test_hash, data_batch)
                elif self.audio_mode == 'swapped':
                    if num < 2:
                        raise ValueError('swapped audio needs test batches of 2 or more')
                    for key in ('audio', 'audio_valid'):
                        if key in inputs:
                            inputs[key] = inputs[key][1:] + inputs[key][:1]
                    self.changed += num
                elif self.audio_mode == 'no_audio':
                    inputs['audio_valid'] = [torch.tensor(False)] * num
                    self.changed += num


# -------------------------------------------------------------------- data
def ensure_data(args) -> str:
    root = args.data_root
    if root and osp.isfile(osp.join(root, TRAIN_LIST)) and osp.isfile(osp.join(root, TEST_LIST)):
        return osp.abspath(root)
    root = osp.abspath(root or osp.join(args.work_dir, 'demo_data'))
    if not (osp.isfile(osp.join(root, TRAIN_LIST)) and osp.isfile(osp.join(root, TEST_LIST))):
        cmd = [sys.executable, osp.join(REPO, 'tools', 'data', 'make_demo_dataset.py'),
               '--out', root, '--seed', str(args.data_seed),
               '--num-classes', str(args.num_classes),
               '--clips-per-class', str(args.clips_per_class),
               '--duration', str(args.duration)]
        print('generating the demo data:', ' '.join(cmd), flush=True)
        subprocess.run(cmd, check=True)
    return root


# ----------------------------------------------------------------- configs
def _steps(pipeline, type_name):
    return [step for step in pipeline if step.get('type') == type_name]


def _dataset_cfg(loader):
    ds = loader['dataset']
    while 'dataset' in ds and ds.get('type') in ('RepeatDataset', 'ConcatDataset',
                                                 'ClassBalancedDataset'):
        ds = ds['dataset']
    return ds


def variant_model_cfg(model_cfg, variant: str):
    """The model config with its fusion (and audio encoder) swapped."""
    model_cfg = copy.deepcopy(model_cfg)
    target = FUSIONS[variant]
    old = dict(model_cfg.get('fusion') or {})
    new = dict(type=target)
    for key in WIDTH_KEYS + FUSION_KWARGS[target]:
        if key in old:
            new[key] = old[key]
    audio = model_cfg.get('audio_backbone')
    if variant == 'none':
        new.pop('audio_dim', None)
        model_cfg['audio_backbone'] = None
    elif audio is None:
        raise ValueError(f"variant '{variant}' needs an audio_backbone in the config's model")
    elif variant.startswith('oracle'):
        model_cfg['audio_backbone'] = dict(
            type='DemoParamEncoder', out_dim=audio.get('out_dim', 96),
            num_tokens=audio.get('num_tokens', 8))
    model_cfg['fusion'] = new
    return model_cfg


def _pipeline(steps, variant: str, mask_ratio: float, fixed_seed: Optional[int] = None,
              eval_clips: Optional[int] = None) -> list:
    out = []
    for step in steps:
        step = dict(step)
        kind = step.get('type')
        if kind == 'SampleFrames' and eval_clips:
            step.update(num_clips=eval_clips, test_mode=True)
        if kind == 'TubeMaskGenerator':
            step['mask_ratio'] = mask_ratio
            if fixed_seed is not None:
                step.update(type='FixedTubeMaskGenerator', seed=fixed_seed)
        out.append(step)
        if kind in ('AudioMFCC', 'AudioFbank') and variant.startswith('oracle'):
            out.append(dict(type='LoadDemoParams', num_rows=step.get('num_rows') or 128))
    if variant.startswith('oracle') and not _steps(out, 'LoadDemoParams'):
        raise ValueError('the oracle needs an audio feature transform in the pipeline')
    return out


def variant_cfg(base_cfg, args, variant: str, target: str, seed: int, data_root: str,
                iters: int):
    """Config of one run: the base config + overrides (variant, target, data, budget)."""
    from mmengine.config import ConfigDict
    cfg = copy.deepcopy(base_cfg)
    cfg.model = variant_model_cfg(cfg.model, variant)
    cfg.model.setdefault('head', dict(type='PixelReconstructionHead'))
    cfg.model.head['norm_pix'] = TARGETS[target]
    cfg.work_dir = osp.join(osp.abspath(args.work_dir), target, f'seed{seed}', variant)
    cfg.experiment_name = f'fusion_ablation_{target}_{seed}_{variant}'
    cfg.randomness = dict(seed=seed, deterministic=False, diff_rank_seed=False)
    cfg.launcher = 'none'
    cfg.load_from, cfg.resume = None, False

    train = cfg.train_dataloader
    if args.batch_size:
        train.batch_size = args.batch_size
    train.num_workers = args.num_workers
    train.persistent_workers = args.num_workers > 0
    # InfiniteSampler: same seeded order for every variant, and no 2 s pause at the
    # end of each pass (mmengine's restart of a finite loader in IterBasedTrainLoop)
    train.sampler = dict(type='InfiniteSampler', shuffle=True, seed=seed)
    tds = _dataset_cfg(train)
    tds.ann_file = osp.join(data_root, TRAIN_LIST)
    tds.data_prefix = dict(video=osp.join(data_root, 'videos'))
    tds.pipeline = _pipeline(tds.pipeline, variant, args.mask_ratio)

    test = copy.deepcopy(cfg.get('test_dataloader') or cfg.get('val_dataloader'))
    if test is None:
        raise ValueError('the config has no test_dataloader / val_dataloader')
    test.num_workers, test.persistent_workers = 0, False
    test.batch_size = max(2, test.get('batch_size', 4))
    test.sampler = dict(type='DefaultSampler', shuffle=False)
    eds = _dataset_cfg(test)
    eds.ann_file = osp.join(data_root, TEST_LIST)
    eds.data_prefix = dict(video=osp.join(data_root, 'videos'))
    eds.test_mode = True
    eds.pipeline = _pipeline(eds.pipeline, variant, args.mask_ratio, fixed_seed=seed,
                             eval_clips=args.eval_clips)
    if not _steps(eds.pipeline, 'FixedTubeMaskGenerator'):
        raise ValueError('the test pipeline has no TubeMaskGenerator')
    if not _steps(eds.pipeline, 'LoadObjectMask'):
        fmt = next(i for i, s in enumerate(eds.pipeline) if s.get('type') == 'FormatShape')
        eds.pipeline.insert(fmt, dict(type='LoadObjectMask'))
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
    hooks.logger = dict(type='LoggerHook', interval=max(1, iters // 5), ignore_last=False)
    checkpoint = dict(hooks.get('checkpoint') or {})
    checkpoint.update(interval=iters, by_epoch=False, save_last=True, max_keep_ckpts=1,
                      save_best=None)
    checkpoint.setdefault('type', 'CheckpointHook')
    hooks.checkpoint = checkpoint
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


def _scores(metrics: Dict) -> Dict[str, float]:
    out = {}
    for key, value in metrics.items():
        name = key.split('/', 1)[-1]
        if name in ('masked_mse', 'pixel_mse', 'psnr', 'object_share') or \
                name.startswith(REGIONS):
            out[name] = float(value)
    return out


def run_variant(cfg, variant: str, target: str, seed: int) -> Dict:
    """Trains one run and tests it under every audio mode it supports."""
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    model = runner.model.module if hasattr(runner.model, 'module') else runner.model
    row = dict(variant=variant, target=target, seed=seed,
               fusion_type=type(model.fusion).__name__,
               audio_encoder=type(model.audio_backbone).__name__
               if getattr(model, 'audio_backbone', None) is not None else None,
               **count_params(model))
    t0 = time.perf_counter()
    runner.train()
    row['train_time_s'] = time.perf_counter() - t0
    probe = _probe(runner)
    modes = AUDIO_MODES if model.uses_audio else ('matched', )
    for mode in modes:
        probe.audio_mode, probe.changed = mode, 0
        t0 = time.perf_counter()
        row[mode] = _scores(runner.test())
        row[mode]['eval_time_s'] = time.perf_counter() - t0
        if mode != 'matched' and probe.changed == 0:
            raise RuntimeError(f'{variant}: the {mode} evaluation changed no sample')
    probe.audio_mode = 'matched'
    row['train_batches_sha1'] = probe.train_hash.hexdigest()
    row['eval_inputs_sha1'] = probe.test_hash.hexdigest()
    row['work_dir'] = cfg.work_dir
    return row


# ------------------------------------------------------------------ report
def summarise(rows: List[Dict]) -> List[Dict]:
    """Mean and std over seeds per (target, variant, audio mode), with the
    object-error ratio to 'none' of the same target and seed."""
    base = {(r['target'], r['seed']): r['matched'] for r in rows if r['variant'] == 'none'}
    groups: Dict[tuple, List[Dict]] = {}
    for r in rows:
        for mode in AUDIO_MODES:
            if mode in r:
                groups.setdefault((r['target'], r['variant'], mode), []).append(
                    dict(r[mode], seed=r['seed']))
    summary = []
    for (target, variant, mode), runs in groups.items():
        entry = dict(target=target, variant=variant, audio=mode, seeds=[x['seed'] for x in runs])
        for key in ('object_masked_mse', 'background_masked_mse', 'object_pixel_mse',
                    'background_pixel_mse', 'masked_mse'):
            values = [x[key] for x in runs if key in x]
            if values:
                entry[key] = (float(np.mean(values)), float(np.std(values)))
        for region in REGIONS:
            key = f'{region}_masked_mse'
            ratios = [x[key] / base[(target, x['seed'])][key] for x in runs
                      if (target, x['seed']) in base and key in x]
            if ratios:
                entry[f'{region}_ratio'] = (float(np.mean(ratios)), float(np.std(ratios)))
        summary.append(entry)
    return summary


def _pm(pair, spec='.4f') -> str:
    return '-' if pair is None else f'{format(pair[0], spec)} ± {format(pair[1], spec)}'


HEADER = ('| target | variant | audio at test | object masked MSE | background masked MSE '
          '| object / none | background / none |')


def make_table(summary: List[Dict]) -> str:
    lines = [HEADER, '|' + '---|' * (HEADER.count('|') - 1)]
    for e in summary:
        lines.append(
            f"| {e['target']} | {e['variant']} | {e['audio']} | "
            f"{_pm(e.get('object_masked_mse'))} | {_pm(e.get('background_masked_mse'))} | "
            f"{_pm(e.get('object_ratio'), '.3f')} | {_pm(e.get('background_ratio'), '.3f')} |")
    return '\n'.join(lines)


def make_plot(summary: List[Dict], out: str) -> None:
    """Object and background error per variant and audio mode, one panel per target."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    targets = sorted({e['target'] for e in summary})
    fig, axes = plt.subplots(1, len(targets), squeeze=False, figsize=(6.5 * len(targets), 4))
    for ax, target in zip(axes[0], targets):
        entries = [e for e in summary if e['target'] == target]
        x = np.arange(len(entries))
        for k, (region, colour) in enumerate(zip(REGIONS, ('tab:red', 'tab:grey'))):
            key = f'{region}_masked_mse'
            means = [e[key][0] if key in e else np.nan for e in entries]
            stds = [e[key][1] if key in e else 0 for e in entries]
            ax.bar(x + (k - 0.5) * 0.38, means, 0.38, yerr=stds, capsize=3, color=colour,
                   label=region)
        ax.set_xticks(x)
        ax.set_xticklabels([e['variant'] + ('' if e['audio'] == 'matched' else
                                            f"\n({e['audio']})") for e in entries],
                           rotation=40, ha='right', fontsize=7)
        ax.set_ylabel('held-out masked MSE ' + ('([0, 1] pixels)' if target == 'raw'
                                                else '(normalised target)'))
        ax.set_title(f'target: {target} (mean ± std over seeds)', fontsize=9)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main(argv=None) -> Dict:
    args = parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    import mmav_mask  # noqa: F401  (registers components)
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
    for target in args.targets:
        for seed in args.seeds:
            for variant in args.variants:
                cfg = variant_cfg(base_cfg, args, variant, target, seed, data_root, iters)
                print(f'=== target {target}, seed {seed}, {variant}: {iters} iterations, '
                      f'batch {cfg.train_dataloader.batch_size}, '
                      f'lr {cfg.optim_wrapper.optimizer.lr:g}', flush=True)
                rows.append(run_variant(cfg, variant, target, seed))
    summary = summarise(rows)
    table = make_table(summary)
    same_train = all(len({r['train_batches_sha1'] for r in rows
                          if (r['target'], r['seed']) == key
                          and not r['variant'].startswith('oracle')}) == 1
                     for key in {(r['target'], r['seed']) for r in rows})
    same_eval = all(len({r['eval_inputs_sha1'] for r in rows
                         if (r['target'], r['seed']) == key
                         and not r['variant'].startswith('oracle')}) == 1
                    for key in {(r['target'], r['seed']) for r in rows})
    cfg0 = variant_cfg(base_cfg, args, args.variants[0], args.targets[0], args.seeds[0],
                       data_root, iters)
    setup = dict(
        config=osp.relpath(config, REPO) if config.startswith(REPO) else config,
        data_root=data_root, iters=iters, seeds=args.seeds, targets=args.targets,
        batch_size=cfg0.train_dataloader.batch_size,
        lr=cfg0.optim_wrapper.optimizer.lr, mask_ratio=args.mask_ratio,
        eval_clips=args.eval_clips, threads=args.threads, num_workers=args.num_workers,
        same_training_batches=same_train, same_eval_inputs=same_eval,
        object_share=rows[0]['matched'].get('object_share') if rows else None,
        total_time_s=time.perf_counter() - t_start,
        machine=f'{platform.machine()} {os.cpu_count()} CPUs, torch {torch.__version__}, '
                f'CUDA {"yes" if torch.cuda.is_available() else "no"}')
    result = dict(setup=setup, rows=rows, summary=summary, table=table)

    notes = [
        f"config {setup['config']}, data {data_root}, {iters} iterations x batch "
        f"{setup['batch_size']}, lr {setup['lr']:g}, mask ratio {args.mask_ratio}, "
        f"seeds {args.seeds}, {args.eval_clips} eval clip(s) per held-out video",
        f'identical training batches across the variants of a seed (oracle aside, its '
        f'"audio" differs): {"yes" if same_train else "NO"}; identical held-out inputs and '
        f'masks: {"yes" if same_eval else "NO"}; object share of the masked values: '
        f"{setup['object_share']}",
        'masked MSE in the target space (raw: [0, 1] pixels; norm: VideoMAE normalised '
        'pixels), mean ± std over seeds, lower is better; object / none: ratio to the '
        'video-only model of the same seed; audio at test: matched, swapped (another '
        "clip's audio) or no_audio (audio_valid False).",
    ]
    md = '\n'.join(['# Fusion ablation', '', *[f'- {n}' for n in notes], '', table, ''])
    with open(osp.join(args.work_dir, 'fusion_ablation.json'), 'w') as f:
        json.dump(result, f, indent=2)
    with open(osp.join(args.work_dir, 'fusion_ablation.md'), 'w') as f:
        f.write(md)
    make_plot(summary, osp.join(args.work_dir, 'fusion_ablation.png'))
    print()
    print(md)
    print(f"total {setup['total_time_s']:.0f} s; saved {args.work_dir}/fusion_ablation."
          '{json,md,png}', flush=True)
    return result


if __name__ == '__main__':
    main()
