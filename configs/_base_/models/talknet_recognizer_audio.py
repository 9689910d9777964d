# Audio-only fine-tuning model: MMAction2's RecognizerAudio with the pretrained TalkNet
# audio encoder (out_type='feature_map') and TSNAudioHead. The weights are the pretraining
# checkpoint's audio_backbone.* written as backbone.* (tools/convert/to_mmaction_vit.py --audio).
num_classes = 101
model = dict(
    type='RecognizerAudio',
    backbone=dict(type='TalkNetAudioEncoder', out_type='feature_map'),
    cls_head=dict(type='TSNAudioHead', num_classes=num_classes, in_channels=128,
                  dropout_ratio=0.5, init_std=0.01, label_smooth_eps=0.1, average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCHW'))
