"""AVCsvDataset: VGGSound- and AudioSet-style CSV lists, class names, multi-label."""
import pytest
import torch
from mmaction.registry import DATASETS

from mmav_mask.datasets import AnnotationError


def build(tmp_path, text, **kw):
    ann = tmp_path / 'list.csv'
    ann.write_text(text)
    cfg = dict(type='AVCsvDataset', ann_file=str(ann), pipeline=[],
               data_prefix=dict(video=str(tmp_path / 'videos')))
    cfg.update(kw)
    return DATASETS.build(cfg)


def test_vggsound_rows(tmp_path):
    ds = build(tmp_path, '---g-f_I2yQ,1,people marching,test\n'
                         'abc,30,dog barking,train\n',
               classes=['dog barking', 'people marching'], filename_format='{0}_{1:0>6}.mp4',
               label_column=2)
    assert len(ds) == 2 and ds.num_classes == 2
    first = ds.get_data_info(0)
    assert first['filename'].endswith('videos/---g-f_I2yQ_000001.mp4')
    assert first['label'] == 1 and ds.get_data_info(1)['label'] == 0
    assert first['audio_source'] == 'track'


def test_audioset_rows_multi_label(tmp_path):
    classes = tmp_path / 'mids.txt'
    classes.write_text('/m/09x0r\n/m/05zppz\n/m/02zsn\n')
    ds = build(tmp_path, '# Segments csv created Sun Mar  5 10:54:31 2017\n'
                         '# YTID, start_seconds, end_seconds, positive_labels\n'
                         '--PJHxphWEs, 30.000, 40.000, "/m/09x0r,/m/02zsn"\n'
                         '--ZhevVpy1s, 50.000, 60.000, "/m/05zppz"\n',
               classes=str(classes), filename_format='{0}.mp4', label_column=3,
               multi_class=True)
    onehot = ds.get_data_info(0)['label']
    assert torch.equal(onehot, torch.tensor([1., 0., 1.]))
    assert torch.equal(ds.get_data_info(1)['label'], torch.tensor([0., 1., 0.]))


def test_header_and_integer_labels(tmp_path):
    ds = build(tmp_path, 'file,label\na.mp4,0\nb.mp4,3\n', header=True, num_classes=4)
    assert [ds.get_data_info(i)['label'] for i in range(2)] == [0, 3]


@pytest.mark.parametrize('text,kw,match', [
    ('a.mp4,cat\n', dict(classes=['dog']), "line 1: unknown class 'cat'"),
    ('a.mp4\n', dict(num_classes=2), 'expected a label in column 1'),
    ('a.mp4,7\n', dict(num_classes=2), 'out of range'),
    ('a.mp4,x\n', dict(), 'not an integer'),
    ('a,1\n', dict(filename_format='{5}.mp4', num_classes=2), 'filename_format'),
])
def test_bad_rows_name_file_and_line(tmp_path, text, kw, match):
    with pytest.raises(AnnotationError, match=match) as err:
        build(tmp_path, text, **kw)
    assert 'list.csv' in str(err.value)
