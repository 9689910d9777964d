from .pixel_reconstruction_head import PixelReconstructionHead  # noqa: F401
