"""Data preprocessors (registered in ``mmaction.registry.MODELS``)."""
from .av_data_preprocessor import AVDataPreprocessor

__all__ = ['AVDataPreprocessor']
