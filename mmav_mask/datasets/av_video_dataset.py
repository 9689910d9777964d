"""``AVVideoDataset``: MMAction2 video lists whose samples also carry audio."""
from __future__ import annotations

import logging
import os.path as osp
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator, List, Optional, Sequence, Union

from mmengine.fileio import list_from_file
from mmengine.logging import print_log

from mmaction.datasets import BaseActionDataset
from mmaction.registry import DATASETS
from .audio_io import AudioUnavailable
from .isolated_decode import check_decord_files, decord_check, remember, run_isolated
from .media_probe import probe_feature, probe_sidecar, probe_video
from .transforms.loading_audio import AUDIO_SOURCES, MISSING_AUDIO_POLICIES

BAD_VIDEO_POLICIES = ('error', 'skip')


class AnnotationError(ValueError):
    """A malformed annotation list (names the file and the line)."""


class VideoReadError(RuntimeError):
    """A video that cannot be read (names the file)."""


@DATASETS.register_module()
class AVVideoDataset(BaseActionDataset):
    """Video dataset whose samples also carry their audio source.

    The list has one sample per line, ``relative/path.avi [label]`` (UCF101
    style: ``ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 0``); the label is
    optional (-1 then), or several labels with ``multi_class=True``. Blank
    lines are ignored.

    Audio sources (``audio_source``):

    - ``'track'``: the video's own audio track (decoded with PyAV).
    - ``'sidecar'``: ``<audio root>/<relative path without extension><audio_ext>``
      (default ``.wav``), e.g. written by an extraction tool.
    - ``'feature'``: a precomputed ``(rows, F)`` ``.npy`` at the same
      relative path (rows at ``LoadAlignedAudio.feature_rate`` per second).

    Missing-audio policy (``missing_audio``) for clips without a track or
    with a missing/unreadable audio file:

    - ``'zeros'`` (default): the sample gets zero audio features and
      ``audio_valid=False``, which reaches the model.
    - ``'skip'``: such clips are dropped when the dataset loads; the count is
      logged.
    - ``'error'``: loading the dataset raises an error naming the first such
      file (and ``LoadAlignedAudio`` raises if one turns up later).

    Unreadable videos (``bad_video``): ``'error'`` (default) raises an error
    naming the file; ``'skip'`` drops the clips found unreadable when the
    list is probed (logged count) and, in training, replaces a sample whose
    pipeline fails by another one (logged with the cause). Any pipeline
    failure is re-raised with the sample's file name, so a dataloader worker
    never hides which file broke.

    Files are probed at load (header read and first frames decoded, in
    ``probe_workers`` threads) when ``probe_files`` is True; the default
    (None) probes only when the policies need it (``missing_audio`` 'skip' or
    'error', or ``bad_video='skip'``).

    No file can crash the process: the probe runs in forked children (a
    decoder segfault marks that file unreadable and the next child goes on),
    and it opens each video the way the pipeline's ``DecordInit`` /
    ``SafeDecordInit`` will. With MMAction2's ``DecordInit`` (which hands
    decord the file from memory and segfaults on e.g. a truncated AVI), a
    file that was not probed is opened once per process in a long-lived
    forked child before the pipeline runs (about 10 ms per file);
    ``SafeDecordInit`` does its own check and opens by path.

    Each sample's info gets ``filename``, ``label``, ``audio_source``,
    ``audio_path`` (None for 'track') and ``missing_audio``, which
    ``LoadAlignedAudio`` reads.

    Args:
        ann_file: annotation list.
        pipeline: transforms.
        data_prefix: ``dict(video=ROOT, audio=ROOT)``; the audio root
            defaults to the video root.
        audio_source: 'track', 'sidecar' or 'feature'.
        audio_ext: extension of sidecar/feature files (default '.wav' /
            '.npy').
        missing_audio: 'zeros', 'skip' or 'error'.
        bad_video: 'error' or 'skip'.
        probe_files: probe files at load (None: when the policies need it).
        probe_workers: threads for probing.
        num_classes: number of classes; labels must lie in [0, num_classes).
        multi_class: several labels per line.
        delimiter: field delimiter; ' ' splits on any whitespace.
        **kwargs: passed to :class:`BaseActionDataset` (test_mode,
            start_index, modality, data_root, ...).
    """

    def __init__(self, ann_file: str, pipeline: List[Union[dict, Callable]],
                 data_prefix: Optional[dict] = None, audio_source: str = 'track',
                 audio_ext: Optional[str] = None, missing_audio: str = 'zeros',
                 bad_video: str = 'error', probe_files: Optional[bool] = None,
                 probe_workers: int = 4, num_classes: Optional[int] = None,
                 multi_class: bool = False, delimiter: str = ' ', **kwargs) -> None:
        if audio_source not in AUDIO_SOURCES:
            raise ValueError(f'audio_source must be one of {AUDIO_SOURCES}, got {audio_source!r}')
        if missing_audio not in MISSING_AUDIO_POLICIES:
            raise ValueError(f'missing_audio must be one of {MISSING_AUDIO_POLICIES}, '
                             f'got {missing_audio!r}')
        if bad_video not in BAD_VIDEO_POLICIES:
            raise ValueError(f'bad_video must be one of {BAD_VIDEO_POLICIES}, got {bad_video!r}')
        if multi_class and num_classes is None:
            raise ValueError('multi_class=True needs num_classes')
        data_prefix = dict(data_prefix or {})
        data_prefix.setdefault('video', '')
        data_prefix.setdefault('audio', data_prefix['video'])
        self.audio_source = audio_source
        self.audio_ext = audio_ext or ('.npy' if audio_source == 'feature' else '.wav')
        self.missing_audio = missing_audio
        self.bad_video = bad_video
        self.probe_files = probe_files if probe_files is not None else (
            missing_audio != 'zeros' or bad_video == 'skip')
        self.probe_workers = max(1, int(probe_workers))
        self.delimiter = delimiter
        # counts of the last load, for logs and tests
        self.num_bad_videos = 0
        self.num_without_audio = 0
        self.num_runtime_skips = 0
        super().__init__(ann_file, pipeline=pipeline, data_prefix=data_prefix,
                         num_classes=num_classes, multi_class=multi_class, **kwargs)

    # ------------------------------------------------------------------ list
    def _split(self, line: str) -> List[str]:
        return line.split() if self.delimiter == ' ' else line.split(self.delimiter)

    def _parse_line(self, line: str, lineno: int) -> dict:
        """One list line -> ``dict(filename, label)`` (relative filename)."""
        where = f'{self.ann_file}, line {lineno}'
        fields = [f for f in self._split(line.strip())]
        if self.multi_class:
            if len(fields) < 2:
                raise AnnotationError(f'{where}: expected "path label [label ...]", '
                                      f'got {line!r}')
        elif len(fields) > 2:
            raise AnnotationError(f'{where}: expected "path [label]", got {len(fields)} '
                                  f'fields: {line!r}')
        try:
            labels = [int(x) for x in fields[1:]]
        except ValueError:
            raise AnnotationError(f'{where}: label is not an integer: {line!r}') from None
        for label in labels:
            if label < 0 or (self.num_classes is not None and label >= self.num_classes):
                bound = f'[0, {self.num_classes})' if self.num_classes is not None else '>= 0'
                raise AnnotationError(f'{where}: label {label} out of range {bound}: {line!r}')
        if self.multi_class:
            label = labels
        else:
            label = labels[0] if labels else -1
        return dict(filename=fields[0], label=label)

    def _audio_path(self, rel: str) -> Optional[str]:
        if self.audio_source == 'track':
            return None
        return osp.join(self.data_prefix['audio'], osp.splitext(rel)[0] + self.audio_ext)

    def _entries(self) -> Iterator[dict]:
        """``dict(filename=relative path, label=...)`` per line of the list."""
        for lineno, line in enumerate(list_from_file(self.ann_file), start=1):
            if line.strip():
                yield self._parse_line(line, lineno)

    def load_data_list(self) -> List[dict]:
        """Parse the list, attach audio sources, probe and filter by policy."""
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'annotation file not found: {self.ann_file}')
        data_list = []
        for info in self._entries():
            rel = info['filename']
            info['filename'] = osp.join(self.data_prefix['video'], rel)
            info['audio_source'] = self.audio_source
            info['audio_path'] = self._audio_path(rel)
            info['missing_audio'] = self.missing_audio
            data_list.append(info)
        if not data_list:
            raise AnnotationError(f'{self.ann_file}: the annotation list is empty')
        if self.probe_files:
            data_list = self._probe_and_filter(data_list)
        return data_list

    # ---------------------------------------------------------------- probing
    def _decord_mode(self) -> Optional[str]:
        """How the pipeline's decord reader opens files: ``'bytes'`` for
        MMAction2's ``DecordInit`` (from memory), ``'path'`` for
        ``SafeDecordInit``, None for other readers or non-disk backends."""
        from mmaction.datasets.transforms import DecordInit
        from .transforms.loading_video import SafeDecordInit
        for t in getattr(self.pipeline, 'transforms', []):
            if isinstance(t, SafeDecordInit):
                return 'path' if t.opens_by_path else None
            if isinstance(t, DecordInit):
                return 'bytes' if t.io_backend == 'disk' else None
        return None

    def _probe_one(self, info: dict, decord_mode: Optional[str] = None):
        """Runs in a forked child (see :meth:`_probe_and_filter`)."""
        check_track = self.audio_source == 'track'
        video_error, audio_error = probe_video(info['filename'], check_audio_track=check_track)
        if video_error is None and decord_mode is not None:
            try:
                # open only: where decord crashes; PyAV decoded the first frames
                # above, and seeking to the last frame would triple the cost
                decord_check(info['filename'], decord_mode, decode=False)
            except Exception as e:  # noqa: BLE001 - decord's errors are plain RuntimeErrors
                video_error = f'decord cannot read it ({type(e).__name__}: {e})'
        if video_error is None and not check_track:
            probe = probe_sidecar if self.audio_source == 'sidecar' else probe_feature
            audio_error = probe(info['audio_path'])
        return video_error, audio_error

    def _probe_and_filter(self, data_list: List[dict]) -> List[dict]:
        decord_mode = self._decord_mode()
        n = self.probe_workers
        chunks = [data_list[i::n] for i in range(n)]

        def probe_chunk(chunk):
            # a crash (decoder segfault) or hang fails only the file it happened on
            return run_isolated(lambda info: self._probe_one(info, decord_mode), chunk)

        with ThreadPoolExecutor(n) as pool:
            chunk_results = list(pool.map(probe_chunk, chunks))
        results: List = [None] * len(data_list)
        for i, chunk_result in enumerate(chunk_results):
            for j, (ok, value) in enumerate(chunk_result):
                results[i + j * n] = tuple(value) if ok else (str(value), None)
        kept, bad_videos, no_audio = [], [], []
        for info, (video_error, audio_error) in zip(data_list, results):
            if decord_mode is not None:
                # workers forked later inherit this: no second check of the file
                remember(info['filename'], decord_mode, video_error, decoded=False)
            if video_error is not None:
                if self.bad_video == 'error':
                    raise VideoReadError(f"{info['filename']}: {video_error} "
                                         "(bad_video='skip' drops such clips)")
                bad_videos.append((info['filename'], video_error))
                continue
            if audio_error is not None:
                where = info['audio_path'] or info['filename']
                if self.missing_audio == 'error':
                    raise AudioUnavailable(f"{where}: {audio_error} (missing_audio='error'; "
                                           "'zeros' or 'skip' accept such clips)")
                no_audio.append((where, audio_error))
                if self.missing_audio == 'skip':
                    continue
            kept.append(info)
        self.num_bad_videos, self.num_without_audio = len(bad_videos), len(no_audio)
        self._log_counts(len(data_list), bad_videos, no_audio)
        if not kept:
            raise AnnotationError(f'{self.ann_file}: no usable clip left after probing '
                                  f'({len(bad_videos)} unreadable videos, {len(no_audio)} '
                                  'without audio)')
        return kept

    def _log_counts(self, total: int, bad_videos: Sequence, no_audio: Sequence) -> None:
        name = osp.basename(self.ann_file)
        if bad_videos:
            examples = '; '.join(f'{f}: {r}' for f, r in bad_videos[:3])
            print_log(f'{name}: skipped {len(bad_videos)} of {total} clips with unreadable '
                      f'video (e.g. {examples})', logger='current', level=logging.WARNING)
        if no_audio:
            action = ('skipped' if self.missing_audio == 'skip' else
                      'gave zero audio (audio_valid=False) to')
            examples = '; '.join(f'{f}: {r}' for f, r in no_audio[:3])
            print_log(f'{name}: {action} {len(no_audio)} of {total} clips without usable '
                      f'audio (e.g. {examples})', logger='current', level=logging.WARNING)
        if not bad_videos and not no_audio:
            print_log(f'{name}: all {total} clips have readable video and audio',
                      logger='current', level=logging.INFO)

    # ---------------------------------------------------------------- loading
    def prepare_data(self, idx: int):
        """Run the pipeline; failures name the file (or skip it by policy)."""
        try:
            if self._decord_mode() == 'bytes':
                # DecordInit would hand decord the file from memory, which can
                # segfault: open it once in a forked child first (cached)
                filename = self.get_data_info(idx)['filename']
                error = check_decord_files([filename], 'bytes', decode=False)[0]
                if error is not None:
                    raise VideoReadError(f'{filename}: decord cannot open it: {error}')
            return super().prepare_data(idx)
        except AudioUnavailable:
            raise  # already names the file; missing_audio='error' asked for it
        except Exception as e:  # noqa: BLE001 - re-raised with the file name
            filename = self.get_data_info(idx).get('filename', '?')
            if self.bad_video == 'skip' and not self.test_mode:
                self.num_runtime_skips += 1
                print_log(f'skipping {filename} ({type(e).__name__}: {e}); '
                          f'{self.num_runtime_skips} samples skipped so far in this process',
                          logger='current', level=logging.WARNING)
                return None  # BaseDataset fetches another sample
            raise VideoReadError(f'failed to load sample {idx} ({filename}): '
                                 f'{type(e).__name__}: {e}') from e
