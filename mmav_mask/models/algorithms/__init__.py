"""Self-supervised algorithms assembled from the plugin's parts (MMPretrain style)."""
from .av_mae import AVMAE
from .mavil import MAViL

__all__ = ['AVMAE', 'MAViL']
