"""Training-engine pieces: hooks for exact resume and non-finite losses."""
from .hooks import ExactResumeHook, NonFiniteLossError, NonFiniteLossHook

__all__ = ['ExactResumeHook', 'NonFiniteLossError', 'NonFiniteLossHook']
