"""Self-supervised algorithms assembled from the plugin's parts (MMPretrain style)."""
from .av_mae import AVMAE

__all__ = ['AVMAE']
