"""Audio-visual data transforms (registered in ``mmaction.registry.TRANSFORMS``)."""
from .audio_features import AudioFbank, AudioMFCC, BaseAudioFeature
from .formatting import PackAVInputs
from .loading_audio import LoadAlignedAudio, clip_windows
from .masking import RandomMaskGenerator, TubeMaskGenerator

__all__ = [
    'LoadAlignedAudio', 'clip_windows', 'BaseAudioFeature', 'AudioMFCC', 'AudioFbank',
    'TubeMaskGenerator', 'RandomMaskGenerator', 'PackAVInputs'
]
