from .base_fusion import NoFusion

__all__ = ['NoFusion']
