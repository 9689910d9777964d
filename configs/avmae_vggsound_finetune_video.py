# Video-only VGGSound fine-tuning (unfactorised ViViT from the AVMAE video encoder, Sec. 4.1).
_base_ = ['./avmae_vggsound_finetune_av.py']
model = dict(audio_backbone=None, cls_head=dict(in_channels=_base_.embed_dims))
