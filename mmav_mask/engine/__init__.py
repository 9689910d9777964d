"""Training-engine pieces: hooks for exact resume and non-finite losses."""
from .hooks import (AtomicCheckpointHook, ExactResumeHook, NonFiniteLossError,
                    NonFiniteLossHook)

__all__ = ['AtomicCheckpointHook', 'ExactResumeHook', 'NonFiniteLossError', 'NonFiniteLossHook']
