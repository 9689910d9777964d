"""``CheckpointHook`` whose checkpoints are complete under their names and load tensors-only."""
from __future__ import annotations

import os
import os.path as osp
from typing import List, Optional

from mmaction.registry import HOOKS
from mmengine.dist import barrier, is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook

from mmav_mask.utils.checkpoint import (atomic_write_text, commit_temporary,
                                        find_latest_checkpoint, make_checkpoint_safe,
                                        temporary_name, unsafe_globals)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` with crash-safe files (same arguments).

    What differs from the upstream hook, for local ``out_dir`` (remote
    backends keep the upstream behaviour):

    * the checkpoint is written to ``.<name>.<random>.tmp`` in ``out_dir``,
      fsynced and renamed to ``iter_N.pth`` / ``epoch_N.pth``: a file under
      that name is always complete, so a ``SIGKILL`` during a save leaves
      ``--resume`` the previous one;
    * ``last_checkpoint`` is replaced atomically after the rename, and the
      checkpoint that falls out of ``max_keep_ckpts`` is deleted only after
      that (upstream deletes it before saving, so a kill in between leaves
      the pointer naming a deleted file);
    * before a run (so before ``--resume`` reads it) a ``last_checkpoint``
      that is missing or names a missing file is pointed at the newest
      ``iter_N.pth`` / ``epoch_N.pth`` of the work dir;
    * the checkpoint dict holds only types that load with
      ``torch.load(weights_only=True)`` and the allowlist of
      :mod:`mmav_mask.utils.checkpoint` (others are converted or dropped
      with a warning), and a written file is checked for it before it is
      renamed into place.

    Config: ``default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook',
    interval=1, max_keep_ckpts=3))``.
    """

    def before_run(self, runner) -> None:
        super().before_run(runner)
        if is_main_process():
            self._repair_pointer(runner)
        barrier()  # other ranks read the pointer in load_or_resume

    @staticmethod
    def _repair_pointer(runner) -> None:
        pointer = osp.join(runner.work_dir, 'last_checkpoint')
        named: Optional[str] = None
        if osp.isfile(pointer):
            with open(pointer) as f:
                named = f.read().strip()
            if named and ('://' in named or osp.isfile(named)):
                return
        latest = find_latest_checkpoint(runner.work_dir)
        if latest is None:
            return
        runner.logger.warning(
            f'{pointer} ' + (f'names {named!r}, which does not exist' if named is not None
                             else 'is missing') +
            f'; pointing it at the newest complete checkpoint {latest}.')
        atomic_write_text(pointer, latest)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        safe, dropped = make_checkpoint_safe(checkpoint)
        if dropped:
            runner.logger.warning(f'AtomicCheckpointHook: not saved (would need full '
                                  f'unpickling to load): {dropped}')
        checkpoint.clear()
        checkpoint.update(safe)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        if not isinstance(self.file_backend, LocalBackend):
            return super()._save_checkpoint_with_step(runner, step, meta)
        outdated: List[int] = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        # Only the main process writes (Runner.save_checkpoint is master_only).
        tmp = temporary_name(self.last_ckpt) if is_main_process() else self.last_ckpt
        try:
            runner.save_checkpoint(
                self.out_dir, osp.basename(tmp), self.file_client_args,
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler, meta=meta,
                by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
            if not is_main_process():
                return
            bad = unsafe_globals(tmp)  # reads only the pickle record
            if bad:  # a hook added something after before_save_checkpoint
                raise RuntimeError(f'{self.last_ckpt} would need full unpickling to load '
                                   f'({bad}); not saved')
            commit_temporary(tmp, self.last_ckpt)
        except BaseException:
            if is_main_process() and tmp != self.last_ckpt and osp.exists(tmp):
                os.unlink(tmp)
            raise
        atomic_write_text(osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        for old_step in outdated:  # only now that the new one is complete
            old = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old_step))
            if self.file_backend.isfile(old):
                self.file_backend.remove(old)
            elif self.file_backend.isdir(old):  # deepspeed-style directories
                self.file_backend.rmtree(old)
