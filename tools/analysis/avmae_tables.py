"""The Audiovisual MAE paper's Table 1 and Table 2 questions on the demo data:
pretrain each variant, fine-tune audio-only / video-only / audio-visual (late
fusion and MBT) from it at equal budget, test, over several seeds.

    python tools/analysis/avmae_tables.py [--data-root DIR] [--work-dir DIR]
        [--variants none separate_shared mid_shared early_shared inpaint_both ...]
        [--modes audio video av mbt] [--seeds 0 1 2] [--video-target config|raw|norm]
        [--clips-per-class C] [--train-per-class K] [--cfg-options k=v ...]

Variants are the pretraining configs ``configs/avmae_demo_<variant>.py``
(Table 1: ``separate_shared``, ``shared_shared``, ``early_shared``,
``mid_shared``, ``mid_early``, ``mid_separate``; Table 2: ``early_shared`` =
joint reconstruction, ``inpaint_video``, ``inpaint_audio``, ``inpaint_both``)
and ``none`` (random initialisation, no pretraining). Modes are the fine-tuning
configs ``configs/avmae_demo_finetune_<mode>.py`` (``audio``, ``video``,
``av`` = late fusion, ``mbt`` = two-stream with bottlenecks).

Every run uses the configs' own budget (20 epochs each), the same training and
held-out lists and ``randomness.seed`` = the seed; only the variant differs.
Each run is what ``tools/train.py`` then ``tools/test.py`` do, in one process
(mmengine ``Runner``: train, then test the final weights); the pretrained
encoders are handed to fine-tuning as ``tools/convert/avmae_to_recognizer.py``
writes them (shared layers untied). Validation during training is off.

Data: ``make_demo_dataset.py --clips-per-class C`` (a third of each class
held out) unless ``--data-root`` has the lists; ``--train-per-class K`` keeps
the first K training clips of each class (so a bigger held-out set need not
cost more training).

Reference for the video reconstruction: the masked-pixel MSE of predicting
every masked tubelet by the mean of the clip's visible tubelets (in [0, 1]
pixels, the space of ``rec/pixel_mse``), on the same held-out clips and masks
distribution.

Writes ``WORK_DIR/avmae_tables.{json,md}`` and prints the tables: mean ± std
over seeds, and per mode the paired difference to ``none`` (same seed).
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import os.path as osp
import subprocess
import sys
import time
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)
TRAIN_LIST = 'ucf101_train_split_1_videos.txt'
TEST_LIST = 'ucf101_val_split_1_videos.txt'
MODES = ('audio', 'video', 'av', 'mbt')
REC_KEYS = ('rec/masked_mse', 'rec/pixel_mse', 'rec/audio_masked_mse')


def parse_args(argv=None):
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data-root', default=None,
                   help='demo data root (lists + videos/); generated when absent')
    p.add_argument('--work-dir', default='work_dirs/avmae_tables')
    p.add_argument('--variants', nargs='+',
                   default=['none', 'separate_shared', 'shared_shared', 'early_shared',
                            'mid_shared', 'inpaint_both'])
    p.add_argument('--modes', nargs='*', default=list(MODES), choices=MODES,
                   help='fine-tuning configs to run (none: pretraining figures only)')
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    p.add_argument('--video-target', default='config', choices=('config', 'raw', 'norm'),
                   help="pretraining video target: the config's, raw [0, 1] pixels "
                        '(norm_pix=False) or per-tubelet normalised')
    p.add_argument('--clips-per-class', type=int, default=12,
                   help='demo data generation: clips per class (a third held out)')
    p.add_argument('--train-per-class', type=int, default=None,
                   help='keep only the first K training clips of each class')
    p.add_argument('--data-seed', type=int, default=0, help='demo data generation seed')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='extra overrides applied to every run')
    args = p.parse_args(argv)
    for v in args.variants:
        if v != 'none' and not osp.isfile(osp.join(REPO, 'configs', f'avmae_demo_{v}.py')):
            p.error(f'unknown variant {v!r}: no configs/avmae_demo_{v}.py')
    return args


# -------------------------------------------------------------------- data
def ensure_data(args) -> Dict[str, str]:
    """Data root, training list and held-out list (generated when absent)."""
    root = osp.abspath(args.data_root or osp.join(args.work_dir, 'demo_data'))
    if not (osp.isfile(osp.join(root, TRAIN_LIST)) and osp.isfile(osp.join(root, TEST_LIST))):
        cmd = [sys.executable, osp.join(REPO, 'tools', 'data', 'make_demo_dataset.py'),
               '--out', root, '--seed', str(args.data_seed),
               '--clips-per-class', str(args.clips_per_class)]
        print('generating the demo data:', ' '.join(cmd), flush=True)
        subprocess.run(cmd, check=True)
    train = osp.join(root, TRAIN_LIST)
    if args.train_per_class:
        with open(train) as f:
            lines = [line for line in f if line.strip()]
        kept, count = [], defaultdict(int)
        for line in lines:
            label = line.split()[-1]
            if count[label] < args.train_per_class:
                kept.append(line)
                count[label] += 1
        os.makedirs(args.work_dir, exist_ok=True)
        train = osp.abspath(osp.join(args.work_dir, f'train_{args.train_per_class}pc.txt'))
        with open(train, 'w') as f:
            f.writelines(kept)
    return dict(root=root, train=train, test=osp.join(root, TEST_LIST))


def _count(path: str) -> int:
    with open(path) as f:
        return sum(1 for line in f if line.strip())


# ----------------------------------------------------------------- configs
def run_cfg(config: str, data: Dict[str, str], seed: int, work_dir: str, name: str,
            args, extra: Optional[dict] = None):
    """The config as tools/train.py would run it, on our lists, seed and work dir."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, 'configs', config))
    for split, ann in (('train', data['train']), ('test', data['test'])):
        loader = cfg[f'{split}_dataloader']
        ds = loader.dataset
        while ds.get('type') in ('RepeatDataset', 'ConcatDataset') and 'dataset' in ds:
            ds = ds.dataset
        ds.ann_file = ann
        ds.data_prefix = dict(video=osp.join(data['root'], 'videos'))
        loader.num_workers, loader.persistent_workers = 0, False
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.train_cfg.pop('val_interval', None)
    cfg.train_cfg.pop('val_begin', None)
    cfg.randomness = dict(seed=seed, deterministic=False, diff_rank_seed=False)
    cfg.work_dir = work_dir
    cfg.experiment_name = name  # one logger / message hub per run in this process
    cfg.launcher = 'none'
    cfg.log_level = 'WARNING'
    cfg.default_hooks.checkpoint.update(interval=-1, save_last=False, save_best=None)
    if extra:
        cfg.merge_from_dict(extra)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def train_and_test(cfg) -> Tuple[Dict[str, float], 'torch.nn.Module']:
    """Trains, then tests the final weights: (test metrics, trained model)."""
    from mmav_mask.utils.runner import build_runner
    runner = build_runner(cfg)
    runner.train()
    metrics = runner.test()
    return {k: float(v) for k, v in metrics.items()}, runner.model


def visible_mean_baseline(cfg) -> float:
    """Masked-pixel MSE of predicting each masked tubelet by the mean of the
    clip's visible tubelets ([0, 1] pixels), over the held-out list."""
    import torch
    from mmaction.registry import MODELS
    from mmengine.runner import Runner
    from mmav_mask.models.utils.views import flatten_views
    model = MODELS.build(copy.deepcopy(cfg.model)).eval()
    loader = Runner.build_dataloader(copy.deepcopy(cfg.test_dataloader), seed=0)
    sse, count = 0.0, 0
    with torch.no_grad():
        for batch in loader:
            flat = flatten_views(model.data_preprocessor(batch, False)['inputs'])
            head = model.video_head
            patches = head.patchify(head.unnormalize(flat.imgs)).flatten(2)  # (B, N, P)
            mask = flat.masks['mask'].flatten(1)                  # (B, N)
            vis = (~mask).unsqueeze(-1).float()
            mean = (patches * vis).sum(1, keepdim=True) / vis.sum(1, keepdim=True)
            err = (patches - mean).pow(2)[mask]
            sse += float(err.sum())
            count += err.numel()
    return sse / count


# ---------------------------------------------------------------- the study
def study(args) -> dict:
    import mmav_mask  # noqa: F401  (registration, compat fixes)
    from mmengine.registry import init_default_scope
    from mmav_mask.models.algorithms.av_mae_checkpoint import untie_avmae_encoders
    from mmav_mask.utils.checkpoint import save_checkpoint_atomic
    init_default_scope('mmaction')
    import torch
    torch.set_num_threads(1)

    data = ensure_data(args)
    work = osp.abspath(args.work_dir)
    runs: List[dict] = []
    target = {'config': None, 'raw': False, 'norm': True}[args.video_target]
    pre_extra = None if target is None else {'model.video_head.norm_pix': target}
    baseline = None
    for seed in args.seeds:
        for variant in args.variants:
            enc_path = None
            row = dict(seed=seed, variant=variant)
            if variant != 'none':
                name = f'pre_{variant}_s{seed}'
                cfg = run_cfg(f'avmae_demo_{variant}.py', data, seed, osp.join(work, name),
                              name, args, pre_extra)
                if baseline is None:
                    baseline = visible_mean_baseline(cfg)
                t0 = time.time()
                metrics, model = train_and_test(cfg)
                row['pretrain_s'] = round(time.time() - t0, 1)
                row.update({k: metrics[k] for k in REC_KEYS if k in metrics})
                enc_path = osp.join(work, name, 'encoders.pth')
                save_checkpoint_atomic(dict(state_dict=untie_avmae_encoders(
                    {k: v.detach().cpu() for k, v in model.state_dict().items()}),
                    meta=dict(layout='mmav', source=name)), enc_path)
                del model
            for mode in args.modes:
                name = f'ft_{mode}_{variant}_s{seed}'
                cfg = run_cfg(f'avmae_demo_finetune_{mode}.py', data, seed,
                              osp.join(work, name), name, args,
                              {'model.pretrained': enc_path})
                t0 = time.time()
                metrics, _ = train_and_test(cfg)
                row[f'{mode}_top1'] = metrics['acc/top1']
                row[f'{mode}_s'] = round(time.time() - t0, 1)
            runs.append(row)
            print(json.dumps(row), flush=True)
            _write(args, data, runs, baseline)  # partial results survive an interruption
    return _write(args, data, runs, baseline)


def _mean_std(values: List[float]) -> str:
    if not values:
        return '-'
    a = np.asarray(values, dtype=float)
    return f'{a.mean():.3f} ± {a.std(ddof=1) if len(a) > 1 else 0.0:.3f}'


def tables(args, data, runs: List[dict], baseline: Optional[float]) -> str:
    n_test = _count(data['test'])
    by = defaultdict(dict)
    for r in runs:
        by[r['variant']][r['seed']] = r
    seeds = sorted({r['seed'] for r in runs})
    modes = [m for m in args.modes if any(f'{m}_top1' in r for r in runs)]
    head = ['pretraining', 'video rec/masked_mse', 'video rec/pixel_mse',
            'rec/audio_masked_mse'] + [f'{m} top-1' for m in modes]
    lines = [f'Seeds {seeds}; {_count(data["train"])} training clips, {n_test} held-out '
             f'clips (one clip = {1 / n_test:.4f}); video target: {args.video_target}.', '',
             '| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for variant in args.variants:
        rs = [by[variant][s] for s in seeds if s in by[variant]]
        cells = [variant if variant == 'none' else f'avmae_demo_{variant}']
        cells += [_mean_std([r[k] for r in rs if k in r]) for k in REC_KEYS]
        cells += [_mean_std([r[f'{m}_top1'] for r in rs if f'{m}_top1' in r]) for m in modes]
        lines.append('| ' + ' | '.join(cells) + ' |')
    if baseline is not None:
        lines += ['', f'Visible-tubelet-mean predictor, video pixel MSE on the held-out clips: '
                      f'{baseline:.4f}.']
    if 'none' in by and len(args.variants) > 1:
        lines += ['', 'Paired difference to random initialisation (same seed), top-1, '
                      'mean ± std over seeds:', '',
                  '| pretraining | ' + ' | '.join(modes) + ' |', '|---|' + '---|' * len(modes)]
        for variant in args.variants:
            if variant == 'none':
                continue
            cells = [f'avmae_demo_{variant}']
            for m in modes:
                k = f'{m}_top1'
                d = [by[variant][s][k] - by['none'][s][k] for s in seeds
                     if s in by[variant] and s in by['none'] and k in by[variant][s]]
                cells.append(_mean_std(d))
            lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def _write(args, data, runs, baseline) -> dict:
    os.makedirs(args.work_dir, exist_ok=True)
    text = tables(args, data, runs, baseline)
    out = dict(args=vars(args), data=data, runs=runs, visible_mean_baseline=baseline,
               num_train=_count(data['train']), num_test=_count(data['test']))
    with open(osp.join(args.work_dir, 'avmae_tables.json'), 'w') as f:
        json.dump(out, f, indent=1)
    with open(osp.join(args.work_dir, 'avmae_tables.md'), 'w') as f:
        f.write(text)
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    t0 = time.time()
    out = study(args)
    print(tables(args, out['data'], out['runs'], out['visible_mean_baseline']))
    print(f'total {time.time() - t0:.0f} s; written to {args.work_dir}/avmae_tables.{{json,md}}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
