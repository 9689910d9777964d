"""Audiovisual MAE encoders: separate, shared, early- and mid-fusion from two ViTs."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.utils.checkpoint as cp
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor, nn

from ..utils.build import ConfigType, build_optional
from ..utils.masking import gather_tokens, split_visible_masked

ENCODER_FUSIONS = ('separate', 'shared', 'early', 'mid')


def video_tokens(backbone: nn.Module, imgs: Tensor, mask: Optional[Tensor]) -> Tensor:
    """Tubelet embedding + positions of a ``MaskedVideoViT``, visible tokens only.

    The first half of ``MaskedVideoViT.forward``, through its public
    ``patch_embed`` and ``position_table``; a test checks that blocks + norm
    after it give ``backbone(imgs, mask)`` exactly.

    Returns:
        (B, N_visible, D) in ascending raster order.
    """
    x = backbone.patch_embed(imgs)
    x = x + backbone.position_table(x.shape[1], x)
    if mask is None:
        return x
    if mask[0].numel() != x.shape[1]:
        raise ValueError(f'video mask has {mask[0].numel()} positions per sample but the '
                         f'clip gives {x.shape[1]} tokens.')
    return gather_tokens(x, split_visible_masked(mask)[0])


@MODELS.register_module()
class AVMAEEncoder(BaseModule):
    """The four encoder structures of Audiovisual MAE (Georgescu et al., Sec. 3.2).

    Each modality has its own tokenizer (the video ViT's tubelet embedding,
    the spectrogram ViT's patch embedding, each with fixed positions); the
    transformer layers are arranged by ``fusion``:

    - ``'separate'``: two ViTs, each on its own visible tokens.
    - ``'shared'``: one transformer (the video ViT's blocks and final norm;
      one parameter set) applied to each modality on its own.
    - ``'early'``: the visible tokens of both modalities concatenated
      ``[video, audio]`` and passed through one transformer (the video ViT's).
    - ``'mid'``: ``L - S`` separate layers, then ``S = num_joint_layers``
      joint layers on the concatenation (paper: S = 2). ``S = 0`` is
      'separate' and ``S = L`` is 'early'.

    Learned modality embeddings (one per modality) are added where a sequence
    holds both modalities: at the input of the first joint layer. A batch
    without audio runs the video path alone, which is ``MaskedVideoViT``
    itself; samples whose ``audio_valid`` is False have their audio tokens
    hidden from attention (key mask) in joint layers.

    Args:
        video: video ViT config (``MaskedVideoViT``).
        audio: audio ViT config (``SpectrogramViT``).
        fusion: one of ``ENCODER_FUSIONS``.
        num_joint_layers: S for ``'mid'`` (ignored otherwise).
        init_cfg: mmengine init config.
    """

    def __init__(self, video: ConfigType, audio: ConfigType, fusion: str = 'mid',
                 num_joint_layers: int = 2, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if fusion not in ENCODER_FUSIONS:
            raise ValueError(f'encoder fusion must be one of {ENCODER_FUSIONS}, got {fusion!r}')
        self.fusion = fusion
        self.video = build_optional(video)
        self.audio = build_optional(audio)
        depth = len(self.video.blocks)
        if fusion != 'separate':
            mismatch = [(name, getattr(self.video, name), getattr(self.audio, name))
                        for name in ('embed_dims', 'depth', 'num_heads')
                        if getattr(self.video, name) != getattr(self.audio, name)]
            if mismatch:
                raise ValueError(f"encoder fusion {fusion!r} runs both modalities through the "
                                 'same layers, so the video and audio ViTs need equal sizes; '
                                 f'(name, video, audio) differ: {mismatch}')
        if getattr(self.video, 'fc_norm', None) is not None:
            raise ValueError('AVMAEEncoder needs token outputs: build the video ViT with '
                             'use_mean_pooling=False.')
        if fusion == 'mid' and not 0 <= num_joint_layers <= depth:
            raise ValueError(f'num_joint_layers must be in [0, {depth}], got {num_joint_layers}')
        self.num_joint_layers = {'separate': 0, 'shared': 0, 'early': depth,
                                 'mid': int(num_joint_layers)}[fusion]
        self.num_separate_layers = depth - self.num_joint_layers
        # Layers the audio shares with the video are dropped from the audio ViT (not
        # tied by reference: each parameter must have one name for the optimizer).
        tied_from = 0 if fusion in ('shared', 'early') else self.num_separate_layers
        if tied_from < depth:
            self.audio.blocks = nn.ModuleList(list(self.audio.blocks)[:tied_from])
            self.audio.norm = nn.Identity()
        self.audio_owns_norm = tied_from == depth
        self.modality_embed = None
        if self.num_joint_layers > 0:
            self.modality_embed = nn.Parameter(torch.zeros(2, self.video.embed_dims))
            nn.init.trunc_normal_(self.modality_embed, std=0.02)

    @property
    def embed_dims(self) -> Tuple[int, int]:
        """(video width, audio width)."""
        return self.video.embed_dims, self.audio.embed_dims

    def audio_layers(self) -> list:
        """The audio path's blocks, own ones first, then the shared video ones."""
        own = list(self.audio.blocks)
        return own + list(self.video.blocks)[len(own):]

    def audio_norm(self) -> nn.Module:
        return self.audio.norm if self.audio_owns_norm else self.video.norm

    def _run(self, vit: nn.Module, blocks, x: Tensor,
             attn_mask: Optional[Tensor] = None) -> Tensor:
        for blk in blocks:
            if getattr(vit, 'with_cp', False) and self.training and x.requires_grad:
                x = cp.checkpoint(blk, x, attn_mask, use_reentrant=False)
            else:
                x = blk(x, attn_mask)
        return x

    def forward(self, imgs: Optional[Tensor], video_mask: Optional[Tensor],
                audio: Optional[Tensor] = None, audio_mask: Optional[Tensor] = None,
                audio_valid: Optional[Tensor] = None
                ) -> Tuple[Optional[Tensor], Optional[Tensor]]:
        """Encodes the visible tokens of both modalities.

        Args:
            imgs: (B, C, T, H, W) normalised clip, or None (audio only).
            video_mask: (B, T', H', W') bool, True = masked, or None (all tokens).
            audio: (B, L, F) spectrogram, or None (video only).
            audio_mask: (B, L/p, F/p) bool, or None.
            audio_valid: (B,) bool, False where the clip has no real audio.

        Returns:
            ``(video (B, Nv_vis, Dv) | None, audio (B, Na_vis, Da) | None)``
            after the final norm.
        """
        v = video_tokens(self.video, imgs, video_mask) if imgs is not None else None
        a = self.audio.tokenize(audio, audio_mask) if audio is not None else None
        sep = self.num_separate_layers
        if v is not None:
            v = self._run(self.video, self.video.blocks[:sep], v)
        if a is not None:
            a = self._run(self.audio, self.audio_layers()[:sep], a)
        joint = self.video.blocks[sep:]
        if len(joint) == 0:
            return (None if v is None else self.video.norm(v),
                    None if a is None else self.audio_norm()(a))
        if v is None or a is None:  # one modality: the tied joint layers run on it alone
            x, vit = (v, self.video) if a is None else (a, self.audio)
            x = self.video.norm(self._run(vit, joint, x))
            return (x, None) if a is None else (None, x)
        nv = v.shape[1]
        x = torch.cat([v + self.modality_embed[0].to(v.dtype),
                       a + self.modality_embed[1].to(a.dtype)], dim=1)
        attn_mask = None
        if audio_valid is not None and not bool(audio_valid.all()):
            attn_mask = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
            attn_mask[:, nv:] = audio_valid.bool()[:, None]
        x = self.video.norm(self._run(self.video, joint, x, attn_mask))
        return x[:, :nv], x[:, nv:]


__all__ = ['AVMAEEncoder', 'ENCODER_FUSIONS', 'video_tokens']
