# Audiovisual MAE pretraining on VGGSound with the paper's settings where its main text
# gives them (Georgescu et al., ICCV 2023; sections cited in the bases):
# ViT-B, mid-fusion (S = 2) encoder, shared decoder, joint reconstruction, masks 0.9 / 0.5,
# 8 s of 128-bin audio, 16 frames; 800 epochs (Sec. 4.3); the MAE/VideoMAE optimisation
# recipe (Sec. 4.1 "based on the public implementations of unimodal MAE"): AdamW (0.9,
# 0.95), weight decay 0.05, lr 1.5e-4 per 256 clips, 40 warm-up epochs, cosine.
# Table 1/2 ablations used 400 epochs: --cfg-options train_cfg.max_epochs=400 and the
# scheduler's end / T_max accordingly. Other variants: model.backbone.fusion=...,
# model.neck.fusion=..., model.objective=... (see the demo configs).
#   tools/dist_train.sh configs/avmae_vggsound_vitb_mid_shared.py 8
_base_ = ['./_base_/models/avmae_vit_base.py', './_base_/datasets/vggsound_avmae.py',
          './_base_/schedules/avmask_pretrain_1200e.py', './_base_/default_runtime.py']

max_epochs, warmup_epochs = 800, 40
train_cfg = dict(max_epochs=max_epochs, val_interval=50)
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'mask_token': dict(decay_mult=0.0),
                                                     'modality_embed': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min_ratio=1 / 15,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True)]
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
