"""The paper's Table I question on the demo: does audio-visual pretraining give a
better video encoder? Video-only fine-tuning from three starting points, same
budget and seeds, top-1 on the held-out clips.

    python tools/analysis/pretrain_transfer.py ABLATION_DIR [--seeds 0 1 2]
        [--target raw] [--config configs/avmask_demo_finetune_video.py]
        [--work-dir DIR] [--cfg-options k=v ...]

ABLATION_DIR is a work dir of ``tools/analysis/fusion_ablation.py``; for every
seed s it holds the pretrained checkpoints ``TARGET/seed{s}/{variant}/iter_N.pth``.
Starting points:

* ``av``: the ``cross_attention`` (AV-MaskEnhancer) encoder of seed s;
* ``video``: the ``none`` (VideoMAE) encoder of seed s;
* ``scratch``: no pretrained weights.

The encoder is converted for MMAction2's ``VisionTransformer`` with
``tools/convert/to_mmaction_vit.py`` (the path a user takes) and fine-tuned
with the config (default: ``configs/avmask_demo_finetune_video.py``, MMAction2's
``Recognizer3D``) through mmengine's ``Runner`` with ``randomness.seed = s``;
then ``runner.test()`` (5 clips x 3 crops). Writes
``WORK_DIR/pretrain_transfer.{json,md}`` and prints mean ± std over seeds.
"""
from __future__ import annotations

import argparse
import copy
import glob
import json
import os
import os.path as osp
import re
import sys
import time
from typing import Dict, List, Optional

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STARTS = {'av': 'cross_attention', 'video': 'none', 'scratch': None}


def parse_args(argv=None):
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('ablation_dir', help='work dir of tools/analysis/fusion_ablation.py')
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    p.add_argument('--target', default='raw', help='pretraining target sub-folder')
    p.add_argument('--starts', nargs='+', default=list(STARTS), choices=list(STARTS))
    p.add_argument('--config', default=osp.join(REPO, 'configs',
                                                'avmask_demo_finetune_video.py'))
    p.add_argument('--data-root', default=None,
                   help="demo data root (default: the ablation's, from its json)")
    p.add_argument('--work-dir', default='work_dirs/pretrain_transfer')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


def latest_checkpoint(folder: str) -> str:
    found = sorted(glob.glob(osp.join(folder, 'iter_*.pth')),
                   key=lambda p: int(re.findall(r'iter_(\d+)', p)[-1]))
    if not found:
        raise FileNotFoundError(f'no iter_N.pth in {folder}: run fusion_ablation.py first')
    return found[-1]


def convert(src: str, dst: str, num_frames: int, img_size: int) -> str:
    sys.path.insert(0, osp.join(REPO, 'tools', 'convert'))
    import to_mmaction_vit
    if to_mmaction_vit.main([src, dst, '--num-frames', str(num_frames),
                             '--img-size', str(img_size), '--drop-head']) != 0:
        raise RuntimeError(f'conversion of {src} failed')
    return dst


def run(cfg, seed: int, work_dir: str, checkpoint: Optional[str]) -> Dict:
    from mmengine.runner import Runner
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed, deterministic=False, diff_rank_seed=False)
    cfg.launcher = 'none'
    cfg.load_from, cfg.resume = None, False
    backbone = cfg.model.backbone
    backbone.init_cfg = (dict(type='Pretrained', checkpoint=checkpoint, prefix='backbone.')
                         if checkpoint else None)
    runner = Runner.from_cfg(cfg)
    t0 = time.perf_counter()
    runner.train()
    metrics = runner.test()
    return dict(top1=float(metrics['acc/top1']), top5=float(metrics['acc/top5']),
                mean1=float(metrics['acc/mean1']), time_s=time.perf_counter() - t0)


def main(argv=None) -> Dict:
    args = parse_args(argv)
    import mmav_mask  # noqa: F401  (registers components)
    from mmengine.config import Config
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    data_root = args.data_root
    summary_file = osp.join(args.ablation_dir, 'fusion_ablation.json')
    if data_root is None and osp.isfile(summary_file):
        with open(summary_file) as f:
            data_root = json.load(f)['setup']['data_root']
    if data_root:
        for split in ('train', 'val', 'test'):
            ds = cfg[f'{split}_dataloader'].dataset
            ds.ann_file = osp.join(data_root, osp.basename(ds.ann_file))
            ds.data_prefix = dict(video=osp.join(data_root, 'videos'))
    backbone = cfg.model.backbone
    num_frames, img_size = backbone.get('num_frames', 8), backbone.get('img_size', 64)
    os.makedirs(args.work_dir, exist_ok=True)
    rows: List[Dict] = []
    for seed in args.seeds:
        for start in args.starts:
            work = osp.join(osp.abspath(args.work_dir), f'seed{seed}', start)
            checkpoint = None
            if STARTS[start]:
                src = latest_checkpoint(osp.join(args.ablation_dir, args.target,
                                                 f'seed{seed}', STARTS[start]))
                os.makedirs(work, exist_ok=True)
                checkpoint = convert(src, osp.join(work, 'vit_mmaction.pth'), num_frames,
                                     img_size)
            print(f'=== seed {seed}, start {start}: {checkpoint or "random init"}', flush=True)
            rows.append(dict(seed=seed, start=start, checkpoint=checkpoint,
                             **run(cfg, seed, work, checkpoint)))
    lines = ['| start | top-1 (mean ± std) | top-5 | mean class acc. | per seed top-1 |',
             '|---|---|---|---|---|']
    summary = {}
    for start in args.starts:
        sel = [r for r in rows if r['start'] == start]
        stats = {k: (float(np.mean([r[k] for r in sel])), float(np.std([r[k] for r in sel])))
                 for k in ('top1', 'top5', 'mean1')}
        summary[start] = stats
        lines.append(f"| {start} | {stats['top1'][0]:.3f} ± {stats['top1'][1]:.3f} | "
                     f"{stats['top5'][0]:.3f} | {stats['mean1'][0]:.3f} | "
                     f"{', '.join(format(r['top1'], '.3f') for r in sel)} |")
    table = '\n'.join(lines)
    result = dict(config=args.config, ablation_dir=args.ablation_dir, seeds=args.seeds,
                  data_root=data_root, rows=rows, summary=summary, table=table)
    with open(osp.join(args.work_dir, 'pretrain_transfer.json'), 'w') as f:
        json.dump(result, f, indent=2)
    with open(osp.join(args.work_dir, 'pretrain_transfer.md'), 'w') as f:
        f.write('# Video-only fine-tuning from three starting points\n\n' + table + '\n')
    print()
    print(table)
    return result


if __name__ == '__main__':
    main()
