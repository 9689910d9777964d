"""Optimizer-wrapper constructors."""
from .layer_decay_constructor import LayerDecayOptimWrapperConstructor, vit_layer_id

__all__ = ['LayerDecayOptimWrapperConstructor', 'vit_layer_id']
