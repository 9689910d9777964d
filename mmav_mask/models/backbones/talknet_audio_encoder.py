"""TalkNet-style SE-ResNet34 audio encoder on MFCC (or any T x F feature).

Follows the audio front end of TalkNet (Tao et al., ACM MM 2021; TaoRuijie/TalkNet-ASD,
``model/audioEncoder.py``): a quarter-width ResNet34 (stages 3, 4, 6, 3 with widths
16, 32, 64, 128) made of basic blocks with squeeze-and-excitation, conv1 7x7
with stride 2 on frequency only; frequency is averaged away at the end and time
is downsampled 4x (stages 2 and 3), i.e. 4 MFCC rows (10 ms hop) -> one 40 ms
step, one per 25 fps video frame.

Two deliberate differences from the AV-MaskEnhancer authors' fork: the input
is transposed to (B, 1, F, L) so that the final mean runs over FREQUENCY (the
fork averaged time and kept frequency bins as "tokens"), and the number of
output tokens comes from adaptive pooling over time instead of a hard-coded
repeat.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor, nn


class SELayer(nn.Module):
    """Squeeze-and-excitation: channel gates from globally pooled features.

    Args:
        channels: number of channels C.
        reduction: bottleneck ratio of the gating MLP.
    """

    def __init__(self, channels: int, reduction: int = 8) -> None:
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.fc = nn.Sequential(
            nn.Linear(channels, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, channels), nn.Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, H, W) rescaled per channel."""
        gate = self.fc(x.mean(dim=(2, 3)))
        return x * gate[:, :, None, None]


class SEBasicBlock(nn.Module):
    """ResNet basic block (two 3x3 convs) with an SE gate before the residual sum.

    TalkNet applies ReLU before the first BatchNorm; kept for weight
    compatibility of the layout (conv1/bn1/conv2/bn2/se/downsample).

    Args:
        in_channels: input channels.
        channels: output channels.
        stride: (freq, time) stride of the first conv.
        dilation: (freq, time) dilation of the second conv (and the first by default).
        first_dilation: dilation of the first conv; the block entering a dilated
            stage keeps the previous dilation there (torchvision's scheme).
        reduction: SE reduction.
    """

    def __init__(self, in_channels: int, channels: int,
                 stride: Tuple[int, int] = (1, 1),
                 dilation: Tuple[int, int] = (1, 1),
                 first_dilation: Optional[Tuple[int, int]] = None,
                 reduction: int = 8) -> None:
        super().__init__()
        first_dilation = first_dilation or dilation
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride,
                               padding=first_dilation, dilation=first_dilation,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=dilation,
                               dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.se = SELayer(channels, reduction)
        self.downsample = None
        if tuple(stride) != (1, 1) or in_channels != channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(channels))

    def forward(self, x: Tensor) -> Tensor:
        """(B, C_in, F, L) -> (B, C, F / s_f, L / s_t)."""
        identity = x if self.downsample is None else self.downsample(x)
        out = self.bn1(self.relu(self.conv1(x)))
        out = self.se(self.bn2(self.conv2(out)))
        return self.relu(out + identity)


@MODELS.register_module()
class TalkNetAudioEncoder(nn.Module):
    """SE-ResNet34 (quarter width) over (time, frequency) audio features.

    Args:
        out_dim: width of the output tokens (the visual width D_v); ignored in
            ``'feature_map'`` mode.
        num_tokens: number of output tokens T_a (adaptive average pooling over
            time; default 16 = one per sampled video frame). None keeps the
            encoder's own time steps (L / 4, or L with full dilation).
        layers: blocks per stage.
        widths: channels per stage.
        se_reduction: SE bottleneck ratio.
        dilation: replace the time stride of later stages by time dilation
            (the paper's "ResNet34-dilation"), keeping time resolution. A bool
            applies to stages 2-4, or one bool per stage 2, 3, 4. Frequency is
            still strided.
        out_type: ``'tokens'`` -> (B, num_tokens, out_dim) for the fusion;
            ``'feature_map'`` -> the last stage's (B, widths[-1], F', L') map,
            so the encoder drops into MMAction2's ``RecognizerAudio`` with
            ``TSNAudioHead(in_channels=widths[-1])``.
        in_channels: input channels (1 for MFCC / log-mel).
        frozen_stages: stages (conv1 = 0, stage i = i) kept frozen in eval mode.
        norm_eval: keep BatchNorm in eval mode while training.
        pretrained: checkpoint (path or URL) loaded by :meth:`init_weights`:
            a TalkNet-ASD file (``model.audioEncoder.*``) or one of this
            plugin's (``audio_backbone.*``), read tensors-only through
            :mod:`mmav_mask.models.checkpoint_layouts`.
    """

    # time strides of stages 1-4 in TalkNet (frequency strides are (1, 2, 2, 1))
    _STAGE_STRIDES = ((1, 1), (2, 2), (2, 2), (1, 1))

    def __init__(self, out_dim: int = 768, num_tokens: Optional[int] = 16,
                 layers: Sequence[int] = (3, 4, 6, 3),
                 widths: Sequence[int] = (16, 32, 64, 128),
                 se_reduction: int = 8,
                 dilation: Union[bool, Sequence[bool]] = False,
                 out_type: str = 'tokens', in_channels: int = 1,
                 frozen_stages: int = -1, norm_eval: bool = False,
                 pretrained: Optional[str] = None) -> None:
        super().__init__()
        if out_type not in ('tokens', 'feature_map'):
            raise ValueError(f"out_type must be 'tokens' or 'feature_map', got {out_type!r}")
        if len(layers) != 4 or len(widths) != 4:
            raise ValueError('layers and widths need 4 entries (ResNet stages)')
        if isinstance(dilation, bool):
            dilation = (dilation, ) * 3
        if len(dilation) != 3:
            raise ValueError('dilation: a bool or one bool per stage 2, 3, 4')
        self.out_dim = out_dim
        self.num_tokens = num_tokens
        self.out_type = out_type
        self.dilation = tuple(bool(d) for d in dilation)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

        # stride 2 on frequency only: time keeps the MFCC rate until stage 2
        self.conv1 = nn.Conv2d(in_channels, widths[0], 7, stride=(2, 1), padding=3,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)

        self.time_downsample = 1
        time_dilation = 1
        in_ch = widths[0]
        for i, (n, ch, (s_f, s_t)) in enumerate(zip(layers, widths, self._STAGE_STRIDES)):
            first_dil = time_dilation
            if i > 0 and self.dilation[i - 1]:
                # torchvision's replace_stride_with_dilation, on the time axis only
                time_dilation *= s_t
                s_t = 1
            self.time_downsample *= s_t
            blocks = [SEBasicBlock(in_ch, ch, (s_f, s_t), (1, time_dilation),
                                   (1, first_dil), se_reduction)]
            blocks += [SEBasicBlock(ch, ch, (1, 1), (1, time_dilation),
                                    reduction=se_reduction) for _ in range(n - 1)]
            self.add_module(f'layer{i + 1}', nn.Sequential(*blocks))
            in_ch = ch
        self.feat_dim = in_ch
        self.proj = nn.Linear(in_ch, out_dim) if out_type == 'tokens' else None
        self.pretrained = pretrained
        self._default_init()

    def init_weights(self) -> None:
        """Default init, then the ``pretrained`` checkpoint if given."""
        self._default_init()
        if self.pretrained:
            from ..checkpoint_layouts import load_pretrained
            load_pretrained(self, self.pretrained, prefix='audio_backbone.')

    def _default_init(self) -> None:
        """Kaiming (fan-out) convs, unit BatchNorm, Xavier projection (as TalkNet / VideoMAE)."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if self.proj is not None:
            nn.init.xavier_uniform_(self.proj.weight)
            nn.init.zeros_(self.proj.bias)

    def _to_freq_time(self, audio: Tensor) -> Tensor:
        """(B, L, F) or (B, C, L, F) time-rows-first -> (B, C, F, L) (TalkNet's orientation)."""
        if audio.dim() == 3:
            audio = audio.unsqueeze(1)
        if audio.dim() != 4:
            raise ValueError(f'expected (B, L, F) or (B, C, L, F) audio, got {tuple(audio.shape)}')
        return audio.transpose(2, 3)

    def forward_features(self, audio: Tensor) -> Tensor:
        """Runs the ResNet trunk.

        Args:
            audio: (B, L, F) or (B, 1, L, F), time rows first.

        Returns:
            (B, C4, F', L') with F' = ceil(F / 8), L' = L / time_downsample.
        """
        x = self.relu(self.bn1(self.conv1(self._to_freq_time(audio))))
        for i in range(1, 5):
            x = getattr(self, f'layer{i}')(x)
        return x

    def forward(self, audio: Tensor) -> Tensor:
        """Encodes audio features.

        Args:
            audio: (B, L, F) or (B, 1, L, F) time-rows-first features (MFCC).

        Returns:
            ``'tokens'``: (B, num_tokens, out_dim), token k summarising the
            k-th of num_tokens equal time bins of the window.
            ``'feature_map'``: (B, C4, F', L') for an MMAction2 audio head.
        """
        x = self.forward_features(audio)
        if self.out_type == 'feature_map':
            return x
        x = x.mean(dim=2)  # average FREQUENCY away -> (B, C4, L')
        if self.num_tokens is not None:
            x = F.adaptive_avg_pool1d(x, self.num_tokens)
        return self.proj(x.transpose(1, 2))

    def _freeze_stages(self) -> None:
        if self.frozen_stages >= 0:
            for m in (self.conv1, self.bn1):
                m.eval()
                for p in m.parameters():
                    p.requires_grad = False
        for i in range(1, self.frozen_stages + 1):
            m = getattr(self, f'layer{i}')
            m.eval()
            for p in m.parameters():
                p.requires_grad = False

    def train(self, mode: bool = True) -> 'TalkNetAudioEncoder':
        """Sets train mode, then re-applies frozen stages and ``norm_eval``."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self


__all__ = ['TalkNetAudioEncoder', 'SEBasicBlock', 'SELayer']
