# Audio-visual AudioSet fine-tuning with MBT from Audiovisual MAE ViT-B encoders (Sec. 4.1
# "Datasets", Table 7b): 527 classes, multi-label; fine-tuned on the AS500K subset (MBT's),
# tested on the 18,589 evaluation clips; mean average precision. 527 sigmoid outputs with
# binary cross-entropy; view scores averaged as logits ('score': a softmax would couple the
# classes). Lists: AudioSet's CSVs ('YTID, start, end, "/m/a,/m/b"', '#' comments) limited
# to the clips at hand, videos cut to their 10 s segment as {YTID}.mp4, classes.txt = the
# MIDs of class_labels_indices.csv in index order. Everything else: the VGGSound MBT config.
#   tools/dist_train.sh configs/avmae_audioset_finetune_mbt.py 8 \
#       --cfg-options model.pretrained=work_dirs/avmae_audioset_enc.pth
_base_ = ['./avmae_vggsound_finetune_mbt.py']
num_classes, data_root = 527, 'data/audioset'
model = dict(
    cls_head=dict(num_classes=num_classes, multi_class=True, average_clips='score',
                  loss_cls=dict(type='BCELossWithLogits')),
    data_preprocessor=dict(blending=dict(num_classes=num_classes)))
__csv = dict(classes=f'{data_root}/classes.txt', filename_format='{0}.mp4', label_column=3,
             multi_class=True, num_classes=num_classes,
             data_prefix=dict(video=f'{data_root}/videos'))
train_dataloader = dict(dataset=dict(ann_file=f'{data_root}/as500k_train.csv', **__csv))
val_dataloader = dict(dataset=dict(ann_file=f'{data_root}/eval_segments.csv', **__csv))
test_dataloader = dict(dataset=dict(ann_file=f'{data_root}/eval_segments.csv', **__csv))
# AccMetric's mAP takes multi_class=True's one-hot labels (tests/avmae/test_multilabel_map.py)
val_evaluator = dict(_delete_=True, type='AccMetric', metric_list=('mean_average_precision', ))
test_evaluator = val_evaluator
