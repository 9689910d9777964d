"""Layer-wise learning-rate decay for ViT backbones of any class name.

MMAction2's ``LearningRateDecayOptimizerConstructor`` picks its layer rule by the
backbone's class name and refuses any name without ``VisionTransformer`` or
``MViT`` (our ``MaskedVideoViT``), and it asserts there is no BatchNorm anywhere in
the model (TalkNet has some). This constructor keeps mmengine's default
per-parameter rules (``norm_decay_mult``, ``bias_decay_mult``, ``flat_decay_mult``,
``custom_keys``) for the weight decay and every learning rate, and multiplies
the learning rate of each backbone parameter by VideoMAE's layer scale.
"""
from __future__ import annotations

import re
from typing import List, Optional

import torch.nn as nn
from mmaction.registry import OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.optim import DefaultOptimWrapperConstructor

# Parameters in front of the first block (VideoMAE / MMAction2 ViT / timm names).
_EMBEDDING_NAMES = ('patch_embed', 'pos_embed', 'cls_token', 'mask_token')
_BLOCK = re.compile(r'^blocks\.(\d+)\.')


def vit_layer_id(name: str, num_layers: int) -> int:
    """Layer index of a ViT parameter for layer-wise lr decay.

    Args:
        name: parameter name relative to the backbone (``blocks.3.attn.qkv.weight``).
        num_layers: number of transformer blocks.

    Returns:
        0 for the embeddings (patch embedding, position table, class / mask token),
        ``i + 1`` for ``blocks.i``, ``num_layers + 1`` for everything after the
        blocks (final norm, ``fc_norm``).
    """
    if name.split('.', 1)[0] in _EMBEDDING_NAMES:
        return 0
    match = _BLOCK.match(name)
    if match is not None:
        return int(match.group(1)) + 1
    return num_layers + 1


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class LayerDecayOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """mmengine's default constructor plus VideoMAE's layer-wise lr decay.

    A backbone parameter of layer ``l`` (:func:`vit_layer_id`) gets
    ``lr * layer_decay_rate ** (num_layers + 1 - l)`` times whatever the default
    rules give it; all other parameters (heads, audio encoder, fusion) keep the
    default rules. Weight decay is never changed here: set
    ``norm_decay_mult=0, bias_decay_mult=0, flat_decay_mult=0`` to exempt 1-D
    parameters and biases as VideoMAE does.

    ``paramwise_cfg`` keys besides mmengine's:
        layer_decay_rate (float): decay per layer, e.g. 0.75 (required).
        num_layers (int, optional): number of blocks; default
            ``len(model.<backbone>.blocks)``.
        backbone (str): attribute of the model that holds the ViT
            (default ``'backbone'``).

    Example::

        optim_wrapper = dict(
            constructor='LayerDecayOptimWrapperConstructor',
            optimizer=dict(type='AdamW', lr=5e-4, weight_decay=0.05),
            paramwise_cfg=dict(layer_decay_rate=0.7, norm_decay_mult=0.0,
                               bias_decay_mult=0.0, flat_decay_mult=0.0))
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None):
        paramwise_cfg = dict(paramwise_cfg or {})
        if 'layer_decay_rate' not in paramwise_cfg:
            raise ValueError('LayerDecayOptimWrapperConstructor needs '
                             'paramwise_cfg.layer_decay_rate (e.g. 0.75)')
        self.layer_decay_rate = float(paramwise_cfg.pop('layer_decay_rate'))
        if not 0 < self.layer_decay_rate <= 1:
            raise ValueError(f'layer_decay_rate must be in (0, 1], got {self.layer_decay_rate}')
        self.num_layers = paramwise_cfg.pop('num_layers', None)
        self.backbone_name = paramwise_cfg.pop('backbone', 'backbone')
        # mmengine skips add_params for an empty paramwise_cfg; its default keeps it non-empty
        paramwise_cfg.setdefault('bypass_duplicate', False)
        super().__init__(optim_wrapper_cfg, paramwise_cfg)
        if self.base_lr is None:
            raise ValueError('LayerDecayOptimWrapperConstructor needs optimizer.lr')

    def _num_layers(self, model: nn.Module) -> int:
        if self.num_layers is not None:
            return int(self.num_layers)
        backbone = getattr(model, self.backbone_name, None)
        blocks = getattr(backbone, 'blocks', None)
        if blocks is None:
            raise ValueError(
                f'cannot infer num_layers: model.{self.backbone_name}.blocks does not exist '
                f'({type(backbone).__name__}); set paramwise_cfg.num_layers')
        return len(blocks)

    def add_params(self, params: List[dict], module: nn.Module, prefix: str = '',
                   is_dcn_module=None) -> None:
        super().add_params(params, module, prefix, is_dcn_module)
        if prefix:  # the recursion below the model: scale once, at the top
            return
        num_layers = self._num_layers(module)
        head = f'{self.backbone_name}.'
        names = {id(p): n for n, p in module.named_parameters()}
        for group in params:
            # the default constructor makes one group per parameter
            name = names.get(id(group['params'][0]), '')
            if len(group['params']) != 1 or not name.startswith(head):
                continue
            layer = vit_layer_id(name[len(head):], num_layers)
            scale = self.layer_decay_rate ** (num_layers + 1 - layer)
            group['lr'] = group.get('lr', self.base_lr) * scale
