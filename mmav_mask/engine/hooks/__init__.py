from .atomic_checkpoint_hook import AtomicCheckpointHook
from .exact_resume_hook import ExactResumeHook
from .nonfinite_loss_hook import NonFiniteLossError, NonFiniteLossHook

__all__ = ['AtomicCheckpointHook', 'ExactResumeHook', 'NonFiniteLossError', 'NonFiniteLossHook']
