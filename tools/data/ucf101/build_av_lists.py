"""Builds MMAction2 video lists for UCF101 from its official split files.

Reads UCF101's ``ucfTrainTestlist`` folder::

    classInd.txt        "1 ApplyEyeMakeup"                              (1-based)
    trainlist0K.txt     "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1" (1-based label)
    testlist0K.txt      "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi"   (no label)

and writes, for every split K::

    OUT/ucf101_train_split_K_videos.txt   "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 0"
    OUT/ucf101_val_split_K_videos.txt     "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi 0"

Labels are 0-based (classInd index - 1). Test-list labels come from the class
folder of each path via classInd.txt (matched exactly, else ignoring case:
UCF101 writes ``HandstandPushups`` in classInd.txt and
``v_HandStandPushups_...`` in file names). A label given in a train list must
agree with its folder. Malformed input stops with an error naming the file and
the line.

Example:
    python tools/data/ucf101/build_av_lists.py \\
        --split-dir data/ucf101/annotations --out data/ucf101
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys
from typing import Dict, List, Tuple


class SplitFileError(ValueError):
    """Malformed UCF101 split input (names the file and the line)."""


def _lines(path: str):
    """(line number, stripped text) of the non-blank lines; CRLF, BOM tolerated."""
    if not osp.isfile(path):
        raise SplitFileError(f'{path}: file not found')
    try:
        with open(path, encoding='utf-8-sig') as f:
            lines = f.read().splitlines()
    except UnicodeDecodeError as e:
        raise SplitFileError(f'{path}: not a UTF-8 text file ({e})') from None
    for lineno, line in enumerate(lines, start=1):
        text = line.strip()
        if text:
            yield lineno, text


def read_class_index(path: str) -> Dict[str, int]:
    """classInd.txt -> {class name: 0-based label}."""
    classes: Dict[str, int] = {}
    seen: Dict[int, str] = {}
    for lineno, text in _lines(path):
        fields = text.split()
        where = f'{path}, line {lineno}'
        if len(fields) != 2:
            raise SplitFileError(f'{where}: expected "<index> <ClassName>", got {text!r}')
        try:
            index = int(fields[0])
        except ValueError:
            raise SplitFileError(f'{where}: class index is not an integer: {text!r}') from None
        if index < 1:
            raise SplitFileError(f'{where}: class index must be >= 1 (1-based): {text!r}')
        name = fields[1]
        if index in seen:
            raise SplitFileError(f'{where}: class index {index} repeated '
                                 f'({seen[index]!r} and {name!r})')
        if name in classes:
            raise SplitFileError(f'{where}: class {name!r} listed twice')
        seen[index] = name
        classes[name] = index - 1
    if not classes:
        raise SplitFileError(f'{path}: no classes')
    missing = sorted(set(range(1, len(classes) + 1)) - set(seen))
    if missing:
        raise SplitFileError(f'{path}: class indices must be 1..{len(classes)}; '
                             f'missing {missing[:5]}')
    return classes


def _class_of(rel: str, classes: Dict[str, int], folded: Dict[str, int],
              where: str) -> int:
    if '/' not in rel:
        raise SplitFileError(f'{where}: expected "<Class>/<video>", got {rel!r}')
    folder = rel.split('/', 1)[0]
    if folder in classes:
        return classes[folder]
    if folder.casefold() in folded:
        return folded[folder.casefold()]
    raise SplitFileError(f'{where}: class folder {folder!r} is not in classInd.txt')


def read_split_list(path: str, classes: Dict[str, int]) -> List[Tuple[str, int]]:
    """A train/test list -> [(relative path, 0-based label)]."""
    folded = {k.casefold(): v for k, v in classes.items()}
    entries = []
    for lineno, text in _lines(path):
        where = f'{path}, line {lineno}'
        fields = text.split()
        if len(fields) > 2:
            raise SplitFileError(f'{where}: expected "<Class>/<video> [label]", got {text!r}')
        rel = fields[0].replace('\\', '/')
        label = _class_of(rel, classes, folded, where)
        if len(fields) == 2:
            try:
                given = int(fields[1]) - 1
            except ValueError:
                raise SplitFileError(f'{where}: label is not an integer: {text!r}') from None
            if given != label:
                raise SplitFileError(f'{where}: label {given + 1} disagrees with class folder '
                                     f'{rel.split("/", 1)[0]!r} (index {label + 1} in '
                                     f'classInd.txt)')
        entries.append((rel, label))
    if not entries:
        raise SplitFileError(f'{path}: no clips')
    return entries


def _write(path: str, entries: List[Tuple[str, int]]) -> None:
    tmp = path + '.part'
    with open(tmp, 'w') as f:
        f.write(''.join(f'{rel} {label}\n' for rel, label in entries))
    os.replace(tmp, path)


def build_lists(split_dir: str, out: str, splits=(1, 2, 3)) -> Dict[str, int]:
    """Write the lists of ``splits``; returns {output path: number of clips}."""
    classes = read_class_index(osp.join(split_dir, 'classInd.txt'))
    # read everything first: a bad file leaves no half-written output
    lists = {}
    for k in splits:
        train = read_split_list(osp.join(split_dir, f'trainlist{k:02d}.txt'), classes)
        test = read_split_list(osp.join(split_dir, f'testlist{k:02d}.txt'), classes)
        overlap = set(r for r, _ in train) & set(r for r, _ in test)
        if overlap:
            raise SplitFileError(f'{split_dir}: split {k} has {len(overlap)} clips in both '
                                 f'the train and test lists, e.g. {sorted(overlap)[0]}')
        lists[osp.join(out, f'ucf101_train_split_{k}_videos.txt')] = train
        lists[osp.join(out, f'ucf101_val_split_{k}_videos.txt')] = test
    os.makedirs(out, exist_ok=True)
    for path, entries in lists.items():
        _write(path, entries)
    return {path: len(entries) for path, entries in lists.items()}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Build MMAction2 lists from UCF101 split files')
    p.add_argument('--split-dir', required=True,
                   help='folder with classInd.txt, trainlist0K.txt, testlist0K.txt')
    p.add_argument('--out', required=True, help='where the ucf101_*_split_K_videos.txt go')
    p.add_argument('--splits', type=int, nargs='+', default=[1, 2, 3], choices=[1, 2, 3])
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        written = build_lists(args.split_dir, args.out, args.splits)
    except SplitFileError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    for path, n in written.items():
        print(f'{path}: {n} clips')
    return 0


if __name__ == '__main__':
    sys.exit(main())
