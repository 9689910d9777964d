"""Audio-visual data transforms (registered in ``mmaction.registry.TRANSFORMS``)."""
from .audio_features import AudioFbank, AudioMFCC, BaseAudioFeature
from .formatting import PackAVInputs
from .loading_audio import LoadAlignedAudio, clip_windows
from .loading_video import SafeDecordInit, VideoOpenError
from .masking import RandomMaskGenerator, TubeMaskGenerator
from .audio_masking import AudioMaskGenerator
from .object_mask import LoadObjectMask

__all__ = [
    'LoadAlignedAudio', 'clip_windows', 'SafeDecordInit', 'VideoOpenError',
    'BaseAudioFeature', 'AudioMFCC', 'AudioFbank',
    'TubeMaskGenerator', 'RandomMaskGenerator', 'PackAVInputs', 'LoadObjectMask',
    'AudioMaskGenerator'
]
