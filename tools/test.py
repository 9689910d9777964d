"""Evaluates a checkpoint on a config's test split (MMAction2's CLI).

Examples:
    python tools/test.py configs/avmask_demo_tiny.py work_dirs/avmask_demo_tiny/iter_300.pth
    tools/dist_test.sh configs/avmask_ucf101_finetune_video.py CKPT 8 --dump results.pkl
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
    parser = argparse.ArgumentParser(description='Test an mmav-mask / MMAction2 model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where the evaluation logs and metrics go')
    parser.add_argument('--dump', type=str,
                        help='also dump the predictions to this pickle file (.pkl)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Applies the command-line switches to the config."""
    cfg.launcher = args.launcher
    set_work_dir(cfg, args.work_dir, args.config)
    cfg.load_from = args.checkpoint
    cfg.resume = False
    if args.dump is not None:
        if not args.dump.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--dump must end with .pkl or .pickle, got {args.dump}')
        evaluator = cfg.test_evaluator
        evaluator = list(evaluator) if isinstance(evaluator, (list, tuple)) else [evaluator]
        cfg.test_evaluator = evaluator + [dict(type='DumpResults', out_file_path=args.dump)]
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


# @record: under torchrun, a raising worker writes its error to TORCHELASTIC_ERROR_FILE,
# which tools/dist_*.sh read back to name the first failing rank.
@record
def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = merge_args(Config.fromfile(args.config), args)
    build_runner(cfg).test()


if __name__ == '__main__':
    main()
