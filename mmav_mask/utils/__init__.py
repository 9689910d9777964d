from .checkpoint import (UntrustedCheckpointError, allow_full_unpickling,
                         find_latest_checkpoint, load_checkpoint_bytes, load_checkpoint_file,
                         safe_load, save_checkpoint_atomic)
from .compat import apply as apply_compat

__all__ = ['apply_compat', 'UntrustedCheckpointError', 'allow_full_unpickling',
           'find_latest_checkpoint', 'load_checkpoint_bytes', 'load_checkpoint_file',
           'safe_load', 'save_checkpoint_atomic']
