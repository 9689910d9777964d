"""Guard against NaN / inf losses: stop with the iteration named, or skip the step."""
from __future__ import annotations

import math
from typing import Any, Dict, List, Optional

import torch
import torch.distributed as torch_dist
from mmaction.registry import HOOKS
from mmengine.dist import get_rank, is_distributed
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict


class NonFiniteLossError(FloatingPointError):
    """Raised when the training loss is NaN or infinite (``action='stop'``)."""


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Catches NaN / inf training losses: stop naming the iteration, or skip the step.

    The guard wraps ``optim_wrapper.update_params`` (at ``before_train``) and
    computes, on the loss's device, whether the total loss is finite. Two ways
    to act on it, chosen by ``check_interval``:

    * ``None`` (default with ``action='stop'``): no extra host sync. The flag
      is read after the step, when mmengine has already synchronised to log the
      loss, and the run stops there, before any checkpoint of that iteration
      is written. The bad step has reached the weights in memory, never a
      saved checkpoint.
    * ``k`` (an int): on every k-th iteration the flag is read *before* the
      backward pass (one host sync per checked step), so a bad step is stopped
      or skipped before its gradients reach the weights. ``action='skip'``
      needs this (it defaults to ``check_interval=1``).

    In distributed runs the ranks agree on the flag with one all-reduce, so
    every rank stops or skips together and none waits in the gradient
    all-reduce.

    Args:
        action: ``'stop'`` raises :class:`NonFiniteLossError` naming the
            iteration (1-based, as in the training log) and the non-finite loss
            terms; ``'skip'`` drops the step (no backward, no optimizer step;
            gradients accumulated in the current window are discarded), logs a
            warning and counts it.
        max_skips: with ``'skip'``, raise once more than this many steps were
            skipped in the run (``None``: never).
        check_interval: read the flag before the step every this many
            iterations (a host sync each time), or ``None`` to read it after
            the step at no extra sync (``'stop'`` only).
    """

    priority = 'VERY_HIGH'

    def __init__(self, action: str = 'stop', max_skips: Optional[int] = None,
                 check_interval: Optional[int] = None) -> None:
        if action not in ('stop', 'skip'):
            raise ValueError(f"NonFiniteLossHook: action must be 'stop' or 'skip', got {action!r}")
        if action == 'skip' and check_interval is None:
            check_interval = 1  # skipping needs the verdict before the step
        if check_interval is not None and (not isinstance(check_interval, int)
                                           or check_interval < 1):
            raise ValueError(f'NonFiniteLossHook: check_interval must be a positive int or '
                             f'None, got {check_interval!r}')
        self.action = action
        self.max_skips = max_skips
        self.check_interval = check_interval
        self.num_skipped = 0
        self.skipped_iters: List[int] = []
        self._last_losses: Dict[str, Any] = {}
        self._pending: Optional[torch.Tensor] = None  # device flag of this step
        self._pending_loss: Optional[torch.Tensor] = None
        self._runner = None

    # -- checkpoint state ------------------------------------------------
    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})['nonfinite_loss_skipped'] = self.num_skipped

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self.num_skipped = int(checkpoint.get('meta', {}).get('nonfinite_loss_skipped', 0))

    # -- installation ----------------------------------------------------
    def before_train(self, runner) -> None:
        self._runner = runner
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not getattr(model, '_nonfinite_guarded', False):
            parse_losses = model.parse_losses

            def recording_parse_losses(losses):
                self._last_losses = losses
                return parse_losses(losses)

            model.parse_losses = recording_parse_losses
            model._nonfinite_guarded = True
        wrappers = (runner.optim_wrapper.values()
                    if isinstance(runner.optim_wrapper, OptimWrapperDict) else [runner.optim_wrapper])
        for wrapper in wrappers:
            self._guard(wrapper)

    def _guard(self, wrapper: OptimWrapper) -> None:
        if getattr(wrapper, '_nonfinite_guarded', False):
            return
        update_params = wrapper.update_params

        def guarded_update_params(loss, *args, **kwargs):
            bad = self._bad_flag(loss)
            if not self._checked_now():
                # no host sync: remember the device flag, read it after the step
                self._pending, self._pending_loss = bad, loss.detach()
                return update_params(loss, *args, **kwargs)
            if not bool(bad.item()):
                return update_params(loss, *args, **kwargs)
            self._on_nonfinite(wrapper, loss)

        wrapper.update_params = guarded_update_params
        wrapper._nonfinite_guarded = True

    def _checked_now(self) -> bool:
        return (self.check_interval is not None
                and self._runner.iter % self.check_interval == 0)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self._pending is None:
            return
        bad, loss = self._pending, self._pending_loss
        self._pending = self._pending_loss = None
        if bool(bad.item()):  # mmengine already synchronised to log this step's loss
            self._on_nonfinite(None, loss, after_step=True)

    # -- the check -------------------------------------------------------
    @staticmethod
    def _bad_flag(loss: torch.Tensor) -> torch.Tensor:
        """(1,) float tensor on the loss's device: 1 if any rank's loss is non-finite."""
        bad = (~torch.isfinite(loss.detach())).any().to(torch.float32).reshape(1)
        if is_distributed():
            torch_dist.all_reduce(bad, op=torch_dist.ReduceOp.MAX)
        return bad

    def _bad_terms(self) -> str:
        terms = []
        for name, value in self._last_losses.items():
            values = value if isinstance(value, (list, tuple)) else [value]
            for v in values:
                if isinstance(v, torch.Tensor):
                    v = v.detach().float()
                    if not bool(torch.isfinite(v).all()):
                        terms.append(f'{name}={v.mean().item()}')
                        break
                elif isinstance(v, float) and not math.isfinite(v):
                    terms.append(f'{name}={v}')
                    break
        return ', '.join(terms) if terms else 'on another rank'

    def _on_nonfinite(self, wrapper: Optional[OptimWrapper], loss: torch.Tensor,
                      after_step: bool = False) -> None:
        runner = self._runner
        iteration = runner.iter + 1
        where = (f'iteration {iteration} (epoch {runner.epoch + 1}, rank {get_rank()}): '
                 f'total loss {loss.detach().float().mean().item()}, non-finite terms: '
                 f'{self._bad_terms()}')
        if self.action == 'stop':
            when = ('after its optimizer step (weights in memory are affected; no checkpoint '
                    'of this iteration was written; check_interval=1 stops before the step)'
                    if after_step else 'before its optimizer step')
            raise NonFiniteLossError(
                f'Non-finite training loss at {where}; stopped {when}. Lower the learning '
                'rate, check the inputs of this iteration, or set '
                "custom_hooks=[dict(type='NonFiniteLossHook', action='skip')] to skip such steps.")
        self.num_skipped += 1
        self.skipped_iters.append(iteration)
        # Drop this window's gradients; the accumulation counter (public
        # initialize_count_status) stays equal to the iterations done.
        wrapper.zero_grad()
        wrapper.initialize_count_status(runner.model, iteration, runner.max_iters)
        runner.message_hub.update_scalar('train/nonfinite_skipped', self.num_skipped)
        runner.logger.warning(
            f'NonFiniteLossHook: skipped the optimizer step at {where}; '
            f'{self.num_skipped} step(s) skipped so far.')
        if self.max_skips is not None and self.num_skipped > self.max_skips:
            raise NonFiniteLossError(
                f'{self.num_skipped} training steps had non-finite losses (more than '
                f'max_skips={self.max_skips}); the last one at {where}.')

    def after_train(self, runner) -> None:
        if self.action == 'skip':
            runner.logger.info(
                f'NonFiniteLossHook: {self.num_skipped} step(s) with a non-finite loss were '
                f'skipped in this run' + (f' (iterations {self.skipped_iters})'
                                          if self.skipped_iters else '') + '.')
