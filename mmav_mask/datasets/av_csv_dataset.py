"""VGGSound / AudioSet style CSV lists (file, label or labels) for audio-visual data."""
from __future__ import annotations

import csv
from typing import Dict, Iterator, List, Optional, Sequence, Union

from mmengine.fileio import list_from_file

from mmaction.registry import DATASETS
from .av_video_dataset import AnnotationError, AVVideoDataset


@DATASETS.register_module()
class AVCsvDataset(AVVideoDataset):
    """:class:`AVVideoDataset` read from a CSV list, single- or multi-label.

    Each row gives a video and its label(s). ``filename_format`` builds the
    relative video path from the row's fields (``str.format(*row)``), e.g.

    - VGGSound (``ytid,start_seconds,label,split``, one label per row):
      ``filename_format='{0}_{1:0>6}.mp4'``, ``label_column=2``,
      ``classes`` = the 309 (or 310) class names.
    - AudioSet (``YTID, start_seconds, end_seconds, "/m/a,/m/b"``, comment lines
      starting with ``#``): ``filename_format='{0}.mp4'``, ``label_column=3``,
      ``label_sep=','``, ``multi_class=True``, ``classes`` = the MIDs of
      ``class_labels_indices.csv`` in index order.

    Labels are class names looked up in ``classes`` (a list or a text file with
    one name per line; index = line number), or integers when ``classes`` is
    None. With ``multi_class=True`` the sample's label becomes a one-hot
    vector of ``num_classes`` (MMAction2's ``BaseActionDataset``), which
    ``AccMetric(metric_list=('mean_average_precision', ...))`` scores.
    Every other option (audio sources, missing-audio and bad-video policies,
    probing) is :class:`AVVideoDataset`'s.

    Args:
        ann_file: CSV file.
        pipeline: transforms.
        classes: class names (list or text file) or None for integer labels.
        filename_format: relative path from the row's fields.
        label_column: index of the label field.
        label_sep: separator of several labels inside the label field
            (``multi_class=True``).
        header: skip the first non-comment row.
        comment: rows starting with this string are skipped.
        multi_class: several labels per row.
        num_classes: number of classes (default: ``len(classes)``).
        **kwargs: :class:`AVVideoDataset` arguments (``data_prefix``,
            ``audio_source``, ``missing_audio`` ...).
    """

    def __init__(self, ann_file: str, pipeline: list,
                 classes: Optional[Union[str, Sequence[str]]] = None,
                 filename_format: str = '{0}', label_column: int = 1,
                 label_sep: str = ',', header: bool = False, comment: str = '#',
                 multi_class: bool = False, num_classes: Optional[int] = None,
                 **kwargs) -> None:
        if isinstance(classes, str):
            classes = [c.strip() for c in list_from_file(classes) if c.strip()]
        self.class_names: Optional[List[str]] = list(classes) if classes is not None else None
        self.class_index: Dict[str, int] = {
            name: i for i, name in enumerate(self.class_names or [])}
        if num_classes is None and self.class_names is not None:
            num_classes = len(self.class_names)
        self.filename_format = filename_format
        self.label_column = int(label_column)
        self.label_sep = label_sep
        self.header = header
        self.comment = comment
        super().__init__(ann_file, pipeline=pipeline, multi_class=multi_class,
                         num_classes=num_classes, **kwargs)

    def _label(self, name: str, where: str) -> int:
        name = name.strip()
        if self.class_names is not None:
            if name not in self.class_index:
                raise AnnotationError(f'{where}: unknown class {name!r} (not among the '
                                      f'{len(self.class_names)} classes)')
            return self.class_index[name]
        try:
            label = int(name)
        except ValueError:
            raise AnnotationError(f'{where}: label {name!r} is not an integer and no '
                                  'classes were given') from None
        if label < 0 or (self.num_classes is not None and label >= self.num_classes):
            raise AnnotationError(f'{where}: label {label} out of range')
        return label

    def _parse_row(self, row: List[str], where: str) -> dict:
        """One CSV row -> ``dict(filename, label)`` (relative filename)."""
        if len(row) <= self.label_column:
            raise AnnotationError(f'{where}: expected a label in column {self.label_column}, '
                                  f'got {len(row)} fields: {row!r}')
        try:
            rel = self.filename_format.format(*[f.strip() for f in row])
        except (IndexError, ValueError, KeyError) as e:
            raise AnnotationError(f'{where}: filename_format {self.filename_format!r} does '
                                  f'not fit the row {row!r}: {e}') from None
        field = row[self.label_column]
        if self.multi_class:
            names = [n for n in field.split(self.label_sep) if n.strip()]
            if not names:
                raise AnnotationError(f'{where}: empty label field')
            label = sorted({self._label(n, where) for n in names})
        else:
            label = self._label(field, where)
        return dict(filename=rel, label=label)

    def _entries(self) -> Iterator[dict]:
        """``dict(filename, label)`` per CSV row (header and comments skipped)."""
        skip_header = self.header
        for lineno, line in enumerate(list_from_file(self.ann_file), start=1):
            if not line.strip() or (self.comment and line.lstrip().startswith(self.comment)):
                continue
            if skip_header:
                skip_header = False
                continue
            row = next(csv.reader([line], skipinitialspace=True))
            yield self._parse_row(row, f'{self.ann_file}, line {lineno}')


__all__ = ['AVCsvDataset']
