# Adding audio to a stock MMAction2 config (README: "Adding audio to an MMAction2 config").
# Starts from MMAction2's own VideoMAE ViT-B recognition config and changes three things:
# the dataset (AVVideoDataset), the pipeline (aligned audio + MFCC, PackAVInputs) and the
# recognizer type (AVRecognizer + an audio encoder). The rest is sized down for the demo
# data (8 frames at 64 x 64, a 2-block ViT) and given the training settings the stock
# config, which is test-only, does not have.
#   python tools/data/make_demo_dataset.py --out data/demo
#   python tools/train.py configs/examples/mmaction_videomae_av_demo.py
_base_ = ['mmaction::recognition/videomae/vit-base-p16_videomae-k400-pre_16x4x1_kinetics-400.py']
custom_imports = dict(imports=['mmav_mask'], allow_failed_imports=False)

data_root = 'data/demo'
num_classes, clip_len, img_size, embed_dims, audio_dims = 4, 8, 64, 96, 64

# 1. Recognizer: MMAction2's VisionTransformer stays the visual encoder; AVRecognizer adds
#    the audio encoder and classifies [video, audio] features (the inherited
#    ActionDataPreprocessor settings are used by AVDataPreprocessor).
model = dict(
    type='AVRecognizer',
    backbone=dict(img_size=img_size, num_frames=clip_len, embed_dims=embed_dims, depth=2,
                  num_heads=3),
    audio_backbone=dict(type='TalkNetAudioEncoder', out_dim=audio_dims, num_tokens=clip_len),
    cls_head=dict(num_classes=num_classes, in_channels=embed_dims + audio_dims))

# 2. Pipeline: audio of the sampled frames (before DecordDecode: container timestamps),
#    MFCC features, and PackAVInputs instead of PackActionInputs.
def av_pipeline(num_clips, test_mode):
    return [
        dict(type='DecordInit'),
        dict(type='SampleFrames', clip_len=clip_len, frame_interval=4, num_clips=num_clips,
             test_mode=test_mode),
        dict(type='LoadAlignedAudio'),
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='AudioMFCC', num_rows=128, norm='utterance'),  # 100 rows/s x 1.28 s
        dict(type='PackAVInputs'),
    ]


# 3. Dataset: AVVideoDataset reads the same "path label" lists as VideoDataset.
def av_loader(ann_file, pipeline, shuffle, batch_size):
    return dict(
        batch_size=batch_size, num_workers=0, persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=shuffle),
        dataset=dict(type='AVVideoDataset', ann_file=f'{data_root}/{ann_file}',
                     data_prefix=dict(video=f'{data_root}/videos'), pipeline=pipeline,
                     num_classes=num_classes, test_mode=not shuffle))


train_dataloader = av_loader('ucf101_train_split_1_videos.txt', av_pipeline(1, False), True, 2)
val_dataloader = av_loader('ucf101_val_split_1_videos.txt', av_pipeline(1, True), False, 2)
test_dataloader = av_loader('ucf101_val_split_1_videos.txt', av_pipeline(2, True), False, 1)
del av_pipeline, av_loader

# Training settings (the stock VideoMAE config only tests).
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2, val_interval=1)
val_cfg = dict(type='ValLoop')
val_evaluator = dict(type='AccMetric')
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
                     clip_grad=dict(max_norm=5.0))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=2, by_epoch=True, eta_min=1e-5)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=1))
randomness = dict(seed=0)
