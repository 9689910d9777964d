# Audio-only VGGSound fine-tuning (AST from the AVMAE spectrogram encoder, Sec. 4.1).
_base_ = ['./avmae_vggsound_finetune_av.py']
model = dict(backbone=None, cls_head=dict(in_channels=_base_.embed_dims))
