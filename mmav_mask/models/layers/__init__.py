from .attention import Attention, CrossAttention, multi_head_sdpa
from .bottleneck_fusion import BottleneckExchange
from .transformer import Block, Mlp, sinusoid_position_table, xavier_init_linear_

__all__ = ['Attention', 'BottleneckExchange', 'CrossAttention', 'multi_head_sdpa', 'Block', 'Mlp',
           'sinusoid_position_table', 'xavier_init_linear_']
