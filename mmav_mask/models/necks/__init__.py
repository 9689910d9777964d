from .base_fusion import NoFusion

__all__ = ['NoFusion']
from .videomae_decoder import VideoMAEDecoder  # noqa: F401
from .concat_fusion import ConcatFusion  # noqa: E402,F401
from .cross_attention_fusion import CrossAttentionFusion  # noqa: E402,F401
from .decoder_all_tokens_fusion import DecoderAllTokensFusion  # noqa: E402,F401
__all__ += ['CrossAttentionFusion', 'ConcatFusion', 'DecoderAllTokensFusion']
from .av_mae_decoder import AVMAEDecoder  # noqa: E402,F401
