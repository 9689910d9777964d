"""What tools/train.py and tools/test.py share: the work dir and the runner."""
import os.path as osp

from mmengine.config import Config
from mmengine.runner import Runner


def set_work_dir(cfg: Config, work_dir: str, config_path: str) -> None:
    """--work-dir, else the config's, else ./work_dirs/<config name> (MMAction2's rule)."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])


def build_runner(cfg: Config) -> Runner:
    """mmengine's Runner, or the config's own ``runner_type`` from MMAction2's registry."""
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    from mmaction.registry import RUNNERS
    return RUNNERS.build(cfg)
