from .pixel_reconstruction_head import PixelReconstructionHead  # noqa: F401
from .spectrogram_reconstruction_head import SpectrogramReconstructionHead  # noqa: F401
from .feature_reconstruction_head import FeatureReconstructionHead  # noqa: F401
