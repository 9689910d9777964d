"""Audio-visual datasets and transforms (registered in MMAction2's registries)."""
from . import transforms  # noqa: F401  (registers the transforms first)
from .audio_io import AudioUnavailable
from .av_video_dataset import AnnotationError, AVVideoDataset, VideoReadError
from .av_csv_dataset import AVCsvDataset
from .transforms import *  # noqa: F401,F403

__all__ = ['AVVideoDataset', 'AVCsvDataset', 'AnnotationError', 'VideoReadError', 'AudioUnavailable']
