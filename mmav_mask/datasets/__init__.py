"""Audio-visual datasets and transforms (registered in MMAction2's registries)."""
from . import transforms  # noqa: F401  (registers the transforms first)
from .audio_io import AudioUnavailable
from .av_video_dataset import AnnotationError, AVVideoDataset, VideoReadError
from .transforms import *  # noqa: F401,F403

__all__ = ['AVVideoDataset', 'AnnotationError', 'VideoReadError', 'AudioUnavailable']
