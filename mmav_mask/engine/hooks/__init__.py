from .exact_resume_hook import ExactResumeHook
from .nonfinite_loss_hook import NonFiniteLossError, NonFiniteLossHook

__all__ = ['ExactResumeHook', 'NonFiniteLossError', 'NonFiniteLossHook']
