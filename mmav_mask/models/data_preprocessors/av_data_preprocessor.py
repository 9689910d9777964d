"""``AVDataPreprocessor``: batch, normalise and (optionally) blend AV inputs."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import stack_batch

from mmaction.models.data_preprocessors import ActionDataPreprocessor
from mmaction.models.utils.blending_utils import MixupBlending
from mmaction.registry import MODELS

IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


def _dict_of_lists(inputs) -> Dict[str, List[torch.Tensor]]:
    """Accept ``pseudo_collate`` output (dict of lists), a list of per-sample
    dicts, or plain video tensors (as ``PackActionInputs`` gives)."""
    if isinstance(inputs, dict):
        return {k: list(v) if isinstance(v, (list, tuple)) else list(v.unbind(0))
                for k, v in inputs.items()}
    if isinstance(inputs, torch.Tensor):
        return dict(imgs=list(inputs.unbind(0)))
    if isinstance(inputs, (list, tuple)) and inputs and isinstance(inputs[0], dict):
        keys = inputs[0].keys()
        return {k: [sample[k] for sample in inputs] for k in keys}
    return dict(imgs=list(inputs))


def _is_video_only(inputs) -> bool:
    """True for collated ``PackActionInputs`` output: a tensor or a list of tensors."""
    if isinstance(inputs, torch.Tensor):
        return True
    return isinstance(inputs, (list, tuple)) and bool(inputs) and all(
        isinstance(x, torch.Tensor) for x in inputs)


@MODELS.register_module()
class AVDataPreprocessor(ActionDataPreprocessor):
    """Data preprocessor for audio-visual samples packed by ``PackAVInputs``.

    Reuses :class:`ActionDataPreprocessor` for the video (stacking, BGR->RGB,
    mean/std normalisation on the 0-255 scale, mixup/cutmix blending) and
    batches the audio inputs next to it.

    Returns ``dict(inputs=dict(...), data_samples=[...])`` with, when present:

    - ``imgs``: float (N, V, C, T, H, W), ``(x - mean) / std``.
    - ``audio``: float (N, V, L, F) (zero-padded along L to the longest).
    - ``audio_valid``: bool (N,).
    - ``mask``: bool (N, T', H', W'); any other packed key is stacked too.

    Video-only batches (``PackActionInputs`` or ``PackAVInputs(video_only=True)``)
    are processed exactly as ``ActionDataPreprocessor`` does and come back as
    the plain (N, V, C, T, H, W) tensor, so MMAction2's recognizers accept them.

    With ``blending`` (e.g. ``dict(type='MixupBlending', num_classes=101)``)
    in training, mixup mixes the audio with the same coefficient and partner
    as the video (``blend_audio=True``) and a mixed sample's ``audio_valid``
    is True if either partner had audio. Cutmix cuts only the video.

    Args:
        mean: per-channel mean on the 0-255 scale (ImageNet by default).
        std: per-channel std on the 0-255 scale (ImageNet by default).
        to_rgb: swap BGR to RGB (decord already gives RGB).
        blending: batch blending config, as in ``ActionDataPreprocessor``.
        blend_audio: mix the audio with mixup too.
        format_shape: video layout; only ``'NCTHW'`` (accepted, like
            ``to_float32``, so that an MMAction2 config's
            ``ActionDataPreprocessor`` settings carry over when only the type
            is changed).
        to_float32: as in ``ActionDataPreprocessor``.
    """

    def __init__(self, mean: Optional[Sequence[float]] = IMAGENET_MEAN,
                 std: Optional[Sequence[float]] = IMAGENET_STD, to_rgb: bool = False,
                 blending: Optional[dict] = None, blend_audio: bool = True,
                 format_shape: str = 'NCTHW', to_float32: bool = True) -> None:
        if format_shape != 'NCTHW':
            raise ValueError(f"AVDataPreprocessor supports format_shape='NCTHW' only (video "
                             f"clips for 3D/ViT backbones), got {format_shape!r}")
        super().__init__(mean=mean, std=std, to_rgb=to_rgb, to_float32=to_float32,
                         blending=blending, format_shape='NCTHW')
        self.blend_audio = blend_audio

    def forward(self, data: Union[dict, Tuple[dict]], training: bool = False) -> dict:
        """Batch one collated batch: see the class docstring for the output."""
        data = self.cast_data(data)
        if _is_video_only(data['inputs']):
            # MMAction2's standard inputs (PackActionInputs / PackAVInputs(video_only=True)):
            # answer in kind, so models that expect a tensor (Recognizer3D) get one.
            return super().forward(data, training)
        inputs = _dict_of_lists(data['inputs'])
        data_samples = data.get('data_samples')
        out: Dict[str, torch.Tensor] = {}
        # torch RNG state before blending, to replay mixup's draw on the audio
        rng_state = torch.get_rng_state()
        if 'imgs' in inputs:
            out['imgs'], data_samples = self.preprocess(inputs['imgs'], data_samples, training)
        if 'audio' in inputs:
            out['audio'] = stack_batch([a.float() for a in inputs['audio']])
        if 'audio_valid' in inputs:
            out['audio_valid'] = torch.stack([v.reshape(()).bool() for v in inputs['audio_valid']])
        for key, values in inputs.items():
            if key not in out:
                out[key] = torch.stack(values)
        if training and self.blend_audio and 'audio' in out and 'imgs' in out and isinstance(
                self.blending, MixupBlending):
            torch.set_rng_state(rng_state)
            out['audio'], out['audio_valid'] = self._mix_audio(out['audio'],
                                                               out.get('audio_valid'))
        return dict(inputs=out, data_samples=data_samples)

    def _mix_audio(self, audio: torch.Tensor, valid: Optional[torch.Tensor]):
        """Mixup the audio with the draw just used for the video (same RNG state)."""
        n = audio.shape[0]
        flat = audio.reshape(n, -1)
        flags = (valid.float() if valid is not None else torch.ones(n, device=audio.device))
        both = torch.cat([flat, flags[:, None]], dim=1)
        dummy_label = torch.zeros(n, 1, device=audio.device)
        mixed, _ = self.blending.do_blending(both, dummy_label)
        mixed_valid = mixed[:, -1] > 0 if valid is not None else None
        return mixed[:, :-1].reshape(audio.shape), mixed_valid
