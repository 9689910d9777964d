# MBT-style two-stream fine-tuning (Georgescu et al., Sec. 4.1) of the Audiovisual MAE demo
# encoders: layer 0 of each tiny ViT runs on its own modality, layer 1 exchanges 4 bottleneck
# tokens; read-out = mean of the two streams' pooled vectors (see TwoStreamViT). Same data,
# budget and commands as avmae_demo_finetune_av.py (late fusion); pretrained= takes the
# converted encoders or the AVMAE checkpoint itself.
_base_ = ['./avmae_demo_finetune_av.py']
model = dict(
    backbone=dict(_delete_=True, type='TwoStreamViT', video=_base_.model.backbone,
                  audio=_base_.model.audio_backbone, fusion_layer=1, num_bottlenecks=4),
    audio_backbone=None, cls_head=dict(in_channels=_base_.embed_dims))
