"""Losses computed outside the reconstruction heads (contrastive objectives)."""
from .dist_gather import dist_world, gather_rows_with_grad
from .info_nce import InfoNCELoss

__all__ = ['InfoNCELoss', 'dist_world', 'gather_rows_with_grad']
