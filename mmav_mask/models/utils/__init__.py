from .masking import flatten_mask, gather_tokens, split_visible_masked

__all__ = ['flatten_mask', 'gather_tokens', 'split_visible_masked']
