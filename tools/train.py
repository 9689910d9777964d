"""Trains a model from a config with mmengine's Runner (MMAction2's CLI).

Examples:
    python tools/train.py configs/avmask_demo_tiny.py
    tools/dist_train.sh configs/avmask_ucf101.py 8 --auto-scale-lr
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmav_mask  # noqa: E402,F401  (compat fixes + registration before configs load)
from mmengine.config import Config, DictAction  # noqa: E402
from torch.distributed.elastic.multiprocessing.errors import record  # noqa: E402
from mmav_mask.utils.runner import build_runner, set_work_dir  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train an mmav-mask / MMAction2 model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go '
                        '(default: ./work_dirs/<config name>)')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from this checkpoint, or without a value from the '
                        'latest complete checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument('--no-validate', action='store_true',
                        help='do not evaluate during training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by total batch / auto_scale_lr.base_batch_size')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument('--diff-rank-seed', action='store_true',
                        help='different seeds on different ranks')
    parser.add_argument('--deterministic', action='store_true',
                        help='deterministic algorithms (for exact resume / debugging)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. train_cfg.max_iters=10')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Applies the command-line switches to the config."""
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.launcher = args.launcher
    set_work_dir(cfg, args.work_dir, args.config)
    if args.amp:
        wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper not in ('OptimWrapper', 'AmpOptimWrapper'):
            raise ValueError(f'--amp does not support optim_wrapper type {wrapper!r}')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    randomness = dict(seed=None, diff_rank_seed=False, deterministic=False)
    randomness.update(cfg.get('randomness') or {})
    if args.seed is not None:
        randomness['seed'] = args.seed
    if args.diff_rank_seed:
        randomness['diff_rank_seed'] = True
    if args.deterministic:
        randomness['deterministic'] = True
    cfg.randomness = randomness
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


# @record: under torchrun, a raising worker writes its error to TORCHELASTIC_ERROR_FILE,
# which tools/dist_*.sh read back to name the first failing rank.
@record
def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = merge_args(Config.fromfile(args.config), args)
    build_runner(cfg).train()


if __name__ == '__main__':
    main()
