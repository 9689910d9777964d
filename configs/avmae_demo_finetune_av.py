# Audio-visual fine-tuning (late fusion) of Audiovisual MAE demo encoders, 20 epochs on CPU.
#   python tools/convert/avmae_to_recognizer.py work_dirs/avmae_demo_mid_shared/epoch_20.pth \
#       work_dirs/avmae_demo_mid_shared/encoders.pth
#   python tools/train.py configs/avmae_demo_finetune_av.py \
#       --cfg-options model.pretrained=work_dirs/avmae_demo_mid_shared/encoders.pth
#   python tools/test.py configs/avmae_demo_finetune_av.py \
#       work_dirs/avmae_demo_finetune_av/epoch_20.pth
# model.pretrained=None trains from random initialisation (the baseline).
_base_ = ['./_base_/models/avmae_recognizer_tiny.py',
          './_base_/datasets/demo_avmae_finetune.py', './_base_/default_runtime.py']

max_epochs, warmup_epochs = 20, 2
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min_ratio=0.01,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True)]
default_hooks = dict(logger=dict(interval=4),
                     checkpoint=dict(interval=10, max_keep_ckpts=1, save_best=None))
log_processor = dict(window_size=4)
