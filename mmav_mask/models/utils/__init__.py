from .masking import flatten_mask, gather_tokens, split_visible_masked
from .videomae_checkpoint import (LoadReport, convert_videomae_state_dict, is_converted,
                                  load_videomae_checkpoint, load_videomae_state_dict,
                                  unwrap_state_dict)

__all__ = ['flatten_mask', 'gather_tokens', 'split_visible_masked', 'LoadReport',
           'convert_videomae_state_dict', 'is_converted', 'load_videomae_checkpoint',
           'load_videomae_state_dict', 'unwrap_state_dict']
