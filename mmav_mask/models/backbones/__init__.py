from .talknet_audio_encoder import TalkNetAudioEncoder  # noqa: F401
from .masked_video_vit import MaskedVideoViT  # noqa: F401
from .spectrogram_vit import SpectrogramViT  # noqa: F401
from .av_mae_encoder import AVMAEEncoder  # noqa: F401
from .mavil_fusion import MAViLFusionEncoder  # noqa: F401
from .mavil_encoder import MAViLEncoder  # noqa: F401
from .two_stream_vit import TwoStreamViT  # noqa: F401
