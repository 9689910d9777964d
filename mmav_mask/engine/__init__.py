"""Training-engine pieces: hooks for exact resume and non-finite losses, optimizer
constructors and the runner that makes machine-dependent choices at run time."""
from .hooks import (AtomicCheckpointHook, ExactResumeHook, NonFiniteLossError,
                    NonFiniteLossHook)
from .optimizers import LayerDecayOptimWrapperConstructor
from .runner import MMAVRunner

__all__ = ['AtomicCheckpointHook', 'ExactResumeHook', 'NonFiniteLossError', 'NonFiniteLossHook',
           'LayerDecayOptimWrapperConstructor', 'MMAVRunner']
