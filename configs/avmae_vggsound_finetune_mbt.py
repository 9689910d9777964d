# Audio-visual VGGSound fine-tuning with MBT (the paper's choice for every AV result, Sec. 4.1):
# two ViT-B streams initialised from the AVMAE encoders (untied), 4 bottleneck tokens from
# layer 8 of 12 (MBT's public defaults), read-out = mean of the two streams (TwoStreamViT).
_base_ = ['./avmae_vggsound_finetune_av.py']
model = dict(
    backbone=dict(_delete_=True, type='TwoStreamViT', video=_base_.model.backbone,
                  audio=_base_.model.audio_backbone, fusion_layer=8, num_bottlenecks=4),
    audio_backbone=None, cls_head=dict(in_channels=_base_.embed_dims))
