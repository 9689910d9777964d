# Audio-visual fine-tuning (late fusion) of Audiovisual MAE demo encoders, 20 epochs on CPU.
#   python tools/convert/avmae_to_recognizer.py work_dirs/avmae_demo_mid_shared/epoch_20.pth \
#       work_dirs/avmae_demo_mid_shared/encoders.pth
#   python tools/train.py configs/avmae_demo_finetune_av.py \
#       --cfg-options model.pretrained=work_dirs/avmae_demo_mid_shared/encoders.pth
#   python tools/test.py configs/avmae_demo_finetune_av.py \
#       work_dirs/avmae_demo_finetune_av/epoch_20.pth
# model.pretrained=None trains from random initialisation (the baseline).
_base_ = ['./_base_/models/avmae_recognizer_tiny.py',
          './_base_/datasets/demo_avmae_finetune.py',
          './_base_/schedules/avmae_demo_20e.py', './_base_/default_runtime.py']

# fine-tuning: Adam's usual beta2, decay on every weight matrix
optim_wrapper = dict(optimizer=dict(betas=(0.9, 0.999)),
                     paramwise_cfg=dict(_delete_=True, norm_decay_mult=0.0, bias_decay_mult=0.0))
default_hooks = dict(logger=dict(interval=4),
                     checkpoint=dict(interval=10, max_keep_ckpts=1, save_best=None))
log_processor = dict(window_size=4)
