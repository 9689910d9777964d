"""Audiovisual MAE decoders (shared / separate / early) and the inpainting sequences."""
from __future__ import annotations

import copy
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor, nn

from ..backbones.spectrogram_vit import sincos_2d_position_table
from ..layers import sinusoid_position_table
from ..utils.masking import gather_tokens, split_visible_masked

DECODER_FUSIONS = ('shared', 'separate', 'early')
OBJECTIVES = ('joint', 'inpaint_video', 'inpaint_audio', 'inpaint_both')


@MODELS.register_module()
class AVMAEDecoder(BaseModule):
    """Builds the decoder sequences of both modalities and decodes them.

    ``video_decoder`` is a ``VideoMAEDecoder`` built from ``decoder`` with the
    video geometry (head: C * tubelet * p * p values per tubelet). With
    ``fusion`` 'separate' ``audio_decoder`` is a second one with the
    spectrogram geometry (1 x 1 x p_a x p_a: p_a^2 values per patch); with
    'shared' or 'early' the audio goes through the video decoder's blocks and
    norm (one set of weights) and only ``audio_pred``, a Linear to p_a^2
    values, is the audio's own.

    Per modality: ``Linear(encoder width, decoder width, bias=False)``
    (VideoMAE's ``encoder_to_decoder``), a learned mask token and fixed
    positions (VideoMAE's 1-D sinusoid table for video, 2-D sin-cos for the
    spectrogram). Learned modality embeddings are added where a sequence
    holds both modalities ('early' and the inpainting sequences).

    Sequences (e = encoded visible tokens + positions, m = mask tokens +
    positions, one per masked token of that modality):

    - joint, 'separate' / 'shared': ``[e_v, m_v]`` and ``[e_a, m_a]`` decoded
      on their own.
    - joint, 'early': ``[e_v, e_a, m_v, m_a]`` decoded once; clips without
      audio hide their audio tokens from attention.
    - inpainting (Sec. 3.4): ``[e_a, m_v]`` predicts the video and
      ``[e_v, m_a]`` the audio: encoded tokens first, mask tokens last, only
      the mask tokens' outputs are predictions. Here there is one mask token
      per masked token of the target modality, each with its position (the
      paper pads to n_v - (1 - alpha_a) n_a tokens; positions make the
      target of every mask token explicit). 'early' is not used for
      inpainting: it would show the target's own encoded tokens.

    Args:
        video_dim: video encoder width.
        audio_dim: audio encoder width.
        fusion: one of ``DECODER_FUSIONS``.
        decoder: ``VideoMAEDecoder`` config (width, depth, heads ...); the
            geometry keys are set here.
        video_geometry: ``patch_size``, ``tubelet_size``, ``in_channels`` of
            the video tokens.
        audio_patch_size: spectrogram patch side.
        objective: one of ``OBJECTIVES`` (which sequences are built; the
            modality embeddings exist only where a sequence mixes modalities).
        video_out_channels, audio_out_channels: prediction width per token
            when the target is not pixels / spectrogram values (MAViL stage 2
            predicts teacher features); None: C*t*p*p and p_a*p_a.
        init_cfg: mmengine init config.
    """

    def __init__(self, video_dim: int, audio_dim: int, fusion: str = 'shared',
                 decoder: dict = dict(type='VideoMAEDecoder', embed_dims=384, depth=4,
                                      num_heads=6),
                 video_geometry: Optional[dict] = None, audio_patch_size: int = 16,
                 objective: str = 'joint', video_out_channels: Optional[int] = None,
                 audio_out_channels: Optional[int] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if fusion not in DECODER_FUSIONS:
            raise ValueError(f'decoder fusion must be one of {DECODER_FUSIONS}, got {fusion!r}')
        if objective not in OBJECTIVES:
            raise ValueError(f'objective must be one of {OBJECTIVES}, got {objective!r}')
        self.fusion = fusion
        self.objective = objective
        video_geometry = dict(video_geometry or dict(patch_size=16, tubelet_size=2,
                                                     in_channels=3))
        self.video_decoder = MODELS.build({**copy.deepcopy(decoder), **video_geometry,
                                           **dict(out_channels=video_out_channels)})
        dim = self.video_decoder.embed_dims
        self.audio_decoder = self.audio_pred = None
        if fusion == 'separate':
            self.audio_decoder = MODELS.build({**copy.deepcopy(decoder),
                                               **dict(patch_size=audio_patch_size,
                                                      tubelet_size=1, in_channels=1,
                                                      out_channels=audio_out_channels)})
        else:
            self.audio_pred = nn.Linear(dim, audio_out_channels or audio_patch_size ** 2)
            nn.init.xavier_uniform_(self.audio_pred.weight)
            nn.init.zeros_(self.audio_pred.bias)
        self.embed_dims = dim
        self.video_proj = nn.Linear(video_dim, dim, bias=False)
        self.audio_proj = nn.Linear(audio_dim, dim, bias=False)
        nn.init.xavier_uniform_(self.video_proj.weight)
        nn.init.xavier_uniform_(self.audio_proj.weight)
        self.video_mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.audio_mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        for p in (self.video_mask_token, self.audio_mask_token):
            nn.init.trunc_normal_(p, std=0.02, a=-0.02, b=0.02)  # VideoMAE's mask token init
        self.modality_embed = None
        if fusion == 'early' or objective != 'joint':
            self.modality_embed = nn.Parameter(torch.zeros(2, dim))
            nn.init.trunc_normal_(self.modality_embed, std=0.02, a=-0.02, b=0.02)

    # --------------------------------------------------------------- sequences
    def _parts(self, tokens: Tensor, mask: Tensor, modality: int
               ) -> Tuple[Tensor, Tensor]:
        """(encoded + pos (B, N_vis, D), mask tokens + pos (B, N_mask, D))."""
        proj = self.video_proj if modality == 0 else self.audio_proj
        token = self.video_mask_token if modality == 0 else self.audio_mask_token
        x = proj(tokens)
        if modality == 0:
            pos = sinusoid_position_table(mask[0].numel(), self.embed_dims)
        else:
            pos = sincos_2d_position_table(mask.shape[-2:], self.embed_dims)
        pos = pos.to(device=x.device, dtype=x.dtype)
        visible_idx, masked_idx = split_visible_masked(mask)
        return (x + gather_tokens(pos, visible_idx),
                token.to(x.dtype) + gather_tokens(pos, masked_idx))

    def _tag(self, x: Tensor, modality: int) -> Tensor:
        return x + self.modality_embed[modality].to(x.dtype)

    @staticmethod
    def _audio_key_mask(valid: Optional[Tensor], lengths: Sequence[Tuple[int, bool]],
                        like: Tensor) -> Optional[Tensor]:
        """(B, N) bool key mask hiding audio segments of clips without audio."""
        if valid is None or bool(valid.all()):
            return None
        cols = [torch.ones(like.shape[0], n, dtype=torch.bool, device=like.device)
                if not is_audio else valid.bool()[:, None].expand(-1, n)
                for n, is_audio in lengths]
        return torch.cat(cols, dim=1)

    def _decode_audio(self, seq: Tensor, num_masked: int) -> Tensor:
        """(B, N, D) sequence, mask tokens last -> (B, num_masked, p_a^2)."""
        if self.audio_decoder is not None:
            return self.audio_decoder(seq, num_masked)
        return self.audio_pred(self.video_decoder.forward_features(seq)[:, -num_masked:])

    def forward(self, video: Optional[Tensor], video_mask: Optional[Tensor],
                audio: Optional[Tensor], audio_mask: Optional[Tensor],
                audio_valid: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Decodes the masked tokens of the objective's target modalities.

        Args:
            video: (B, Nv_vis, Dv) encoded visible video tokens, or None.
            video_mask: (B, T', H', W') bool, True = masked.
            audio: (B, Na_vis, Da) encoded visible audio tokens, or None.
            audio_mask: (B, Tg, Fg) bool.
            audio_valid: (B,) bool or None.

        Returns:
            dict with ``video`` (B, Nv_mask, C*t*p*p) and/or ``audio``
            (B, Na_mask, p_a*p_a) predictions of the masked tokens, in ascending
            raster order.
        """
        objective = self.objective
        out: Dict[str, Tensor] = {}
        ev = mv = ea = ma = None
        if video is not None:
            ev, mv = self._parts(video, video_mask, 0)
        if audio is not None:
            ea, ma = self._parts(audio, audio_mask, 1)
        if objective != 'joint':
            if ev is None or ea is None:
                raise ValueError(f'objective {objective!r} needs both video and audio inputs.')
            if objective in ('inpaint_video', 'inpaint_both'):
                seq = torch.cat([self._tag(ea, 1), self._tag(mv, 0)], 1)
                out['video'] = self.video_decoder(seq, mv.shape[1])
            if objective in ('inpaint_audio', 'inpaint_both'):
                seq = torch.cat([self._tag(ev, 0), self._tag(ma, 1)], 1)
                out['audio'] = self._decode_audio(seq, ma.shape[1])
            return out
        if self.fusion == 'early' and ev is not None and ea is not None:
            parts = [self._tag(ev, 0), self._tag(ea, 1), self._tag(mv, 0), self._tag(ma, 1)]
            key_mask = self._audio_key_mask(audio_valid, [(p.shape[1], i % 2 == 1)
                                                          for i, p in enumerate(parts)], ev)
            feats = self.video_decoder.forward_features(torch.cat(parts, 1), key_mask)
            n_mv, n_ma = mv.shape[1], ma.shape[1]
            out['video'] = self.video_decoder.head(feats[:, -(n_mv + n_ma):feats.shape[1] - n_ma])
            out['audio'] = self.audio_pred(feats[:, -n_ma:])
            return out
        if ev is not None:
            out['video'] = self.video_decoder(torch.cat([ev, mv], 1), mv.shape[1])
        if ea is not None:
            out['audio'] = self._decode_audio(torch.cat([ea, ma], 1), ma.shape[1])
        return out


__all__ = ['AVMAEDecoder', 'DECODER_FUSIONS', 'OBJECTIVES']
