"""Base of the audio-visual fusion modules; on its own it is VideoMAE (no audio)."""
from __future__ import annotations

from typing import Optional

from mmaction.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class NoFusion(nn.Module):
    """VideoMAE path: visible tokens -> ``encoder_to_decoder``; audio ignored.

    Subclasses add audio on top of this path so that a sample without audio
    (``audio_valid`` False) gets exactly this module's output.

    Args:
        video_dim: encoder width Dv.
        decoder_dim: decoder width Ddec.
        audio_dim: audio token width Da (defaults to ``video_dim``).
    """

    def __init__(self, video_dim: int, decoder_dim: int,
                 audio_dim: Optional[int] = None) -> None:
        super().__init__()
        self.video_dim = video_dim
        self.decoder_dim = decoder_dim
        self.audio_dim = audio_dim or video_dim
        self.encoder_to_decoder = nn.Linear(video_dim, decoder_dim, bias=False)

    @property
    def uses_audio(self) -> bool:
        return False

    def forward_visible(self, video: Tensor, video_time: Tensor,
                        audio: Optional[Tensor] = None,
                        audio_valid: Optional[Tensor] = None,
                        num_slices: int = 1) -> Tensor:
        """Fuses before mask tokens are appended.

        Args:
            video: (B, N, Dv) visible encoder tokens.
            video_time: (B, N) long, time-slice index of each token in [0, num_slices).
            audio: (B, Ta, Da) audio tokens, or None.
            audio_valid: (B,) bool, False where a clip has no usable audio.
            num_slices: T', number of tubelet time slices.

        Returns:
            (B, N, Ddec) decoder-width tokens.
        """
        return self.encoder_to_decoder(video)

    def forward_decoder(self, tokens: Tensor, token_time: Tensor,
                        audio: Optional[Tensor] = None,
                        audio_valid: Optional[Tensor] = None,
                        num_slices: int = 1) -> Tensor:
        """Fuses the full decoder sequence (visible + mask tokens, with positions).

        Args:
            tokens: (B, N_all, Ddec).
            token_time: (B, N_all) long slice index of each token.
            audio, audio_valid, num_slices: as in :meth:`forward_visible`.

        Returns:
            (B, N_all, Ddec); identity here.
        """
        return tokens
