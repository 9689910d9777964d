from .talknet_audio_encoder import TalkNetAudioEncoder  # noqa: F401
from .masked_video_vit import MaskedVideoViT  # noqa: F401
