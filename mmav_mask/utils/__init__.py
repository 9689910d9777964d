from .checkpoint import (UntrustedCheckpointError, load_checkpoint_file,
                         load_external_weights, save_trusted_checkpoint,
                         trust_checkpoint)
from .compat import apply as apply_compat

__all__ = ['apply_compat', 'UntrustedCheckpointError', 'load_checkpoint_file',
           'load_external_weights', 'save_trusted_checkpoint', 'trust_checkpoint']
