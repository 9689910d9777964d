from .av_mask_enhancer import AVMaskEnhancer  # noqa: F401
from .av_recognizer import AVRecognizer  # noqa: F401
