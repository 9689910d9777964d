"""One loading rule for every checkpoint, and atomic checkpoint writes.

Loading. Every checkpoint is read with ``torch.load(weights_only=True)`` and a
small allowlist of exactly the non-tensor types that mmengine's and this
plugin's checkpoints hold (found by listing what torch's weights-only
unpickler rejects in a real runner checkpoint):

* ``mmengine.logging.HistoryBuffer`` (message hub log scalars) and the four
  statistics methods its state names through ``getattr(HistoryBuffer, name)``
  (``min``/``max``/``current``/``mean``); ``builtins.getattr`` itself is *not*
  allowed: a restricted stand-in resolves only those four attributes;
* numpy arrays, scalars and dtypes (``numpy._core.multiarray._reconstruct``,
  ``numpy._core.multiarray.scalar``, ``numpy.ndarray``, ``numpy.dtype`` and
  the numeric ``numpy.dtypes.*DType`` classes; numpy 1.x's ``numpy.core``
  names too), e.g. ``message_hub.runtime_info.eta``.

The allowlist is scoped (``torch.serialization.safe_globals``) to our loads; it
is not added process-wide. Anything else in a file raises
:class:`UntrustedCheckpointError` naming the file, the rejected global and the
file's SHA-256 before a single object of it is built. The only way to fully
unpickle such a file is an explicit opt-in naming that SHA-256
(:func:`allow_full_unpickling` or ``MMAV_ALLOW_UNPICKLE_SHA256``); the file
is then read once into memory, hashed, and unpickled from those same bytes, so
a file swapped after the check cannot run code.

:func:`register_safe_loaders` puts these loaders behind every URL scheme
mmengine's ``CheckpointLoader`` knows (local paths, ``http(s)://``,
``torchvision://``, ``open-mmlab://``, ``mmcls://``, ``pavi://``, ``s3://``,
``petrel://``), so ``load_from``, ``--resume``, ``init_cfg=Pretrained`` and
MMAction2's own tools all follow the rule.

Writing. :func:`save_checkpoint_atomic` converts a checkpoint to allowlisted
types (:func:`make_checkpoint_safe`), writes it to a temporary file in the
target directory, fsyncs and renames it: a file under its final name is always
complete. :class:`~mmav_mask.engine.hooks.AtomicCheckpointHook` does the same
for the runner's checkpoints.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import os.path as osp
import pickle
import re
import tempfile
import threading
from collections import Counter, OrderedDict
from typing import Any, Callable, Iterator, List, Optional, Set, Tuple, Union
from urllib.parse import urlparse

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log

UNPICKLE_ENV = 'MMAV_ALLOW_UNPICKLE_SHA256'
_allowed_sha256: Set[str] = set()


class UntrustedCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds objects outside the allowlist and was not opted in."""


# ----------------------------------------------------------------- allowlist
_HISTORY_BUFFER_STATS = ('min', 'max', 'current', 'mean')


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """Stand-in for ``builtins.getattr`` inside checkpoints.

    ``HistoryBuffer.__getstate__`` stores its statistics methods, which pickle
    as ``getattr(HistoryBuffer, 'min')`` etc. Only those resolve here.
    """
    if obj is HistoryBuffer and name in _HISTORY_BUFFER_STATS:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'getattr({obj!r}, {name!r}) is not allowed in a checkpoint (only '
        f'HistoryBuffer.{"/".join(_HISTORY_BUFFER_STATS)})')


def _numpy_globals() -> List[Any]:
    core = np._core if hasattr(np, '_core') else np.core  # numpy 2 / numpy 1
    reconstruct, scalar = core.multiarray._reconstruct, core.multiarray.scalar
    dtype_classes = {type(np.dtype(t)) for t in (
        np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
        np.uint64, np.float16, np.float32, np.float64, np.longdouble, np.complex64,
        np.complex128, np.str_, np.bytes_)}
    out: List[Any] = [reconstruct, scalar, np.ndarray, np.dtype]
    out += sorted(dtype_classes - {np.dtype}, key=lambda c: c.__name__)
    # the same functions under the other numpy major version's module name
    out += [(reconstruct, 'numpy.core.multiarray._reconstruct'),
            (scalar, 'numpy.core.multiarray.scalar'),
            (reconstruct, 'numpy._core.multiarray._reconstruct'),
            (scalar, 'numpy._core.multiarray.scalar')]
    return out


SAFE_GLOBALS: List[Any] = [HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr')
                           ] + _numpy_globals()


_scope_lock = threading.RLock()
_scope_depth = 0


@contextlib.contextmanager
def safe_globals() -> Iterator[None]:
    """Scope in which torch's weights-only unpickler accepts :data:`SAFE_GLOBALS`.

    torch's ``safe_globals`` scope is process-wide, so our loads hold a lock
    (a thread cannot end the scope under another's load) and nested scopes
    leave the allowlist in place until the outermost one ends.
    """
    global _scope_depth
    with _scope_lock:
        _scope_depth += 1
        try:
            if _scope_depth == 1:
                with torch.serialization.safe_globals(SAFE_GLOBALS):
                    yield
            else:
                yield
        finally:
            _scope_depth -= 1


def allow_full_unpickling(sha256: str) -> None:
    """Opts one exact file content in to full (code-running) unpickling.

    Args:
        sha256: hex SHA-256 of the file (``sha256sum FILE``). Any other
            content, including the same path rewritten later, stays refused.
    """
    digest = sha256.strip().lower()
    if not re.fullmatch(r'[0-9a-f]{64}', digest):
        raise ValueError(f'expected a 64-digit hex SHA-256, got {sha256!r}')
    _allowed_sha256.add(digest)


def _opted_in() -> Set[str]:
    env = {d.strip().lower() for d in re.split(r'[\s,:;]+', os.environ.get(UNPICKLE_ENV, ''))
           if d.strip()}
    return _allowed_sha256 | env


def _sha256_stream(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _reason(err: Exception) -> str:
    """The line of torch's weights-only error that names the rejected object."""
    text = str(err)
    match = re.search(r'WeightsUnpickler error: ([^\n]*?)(?: Please use|$)', text, re.M)
    if match:
        return match.group(1).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _refusal(source: str, err: Exception, sha256: str) -> UntrustedCheckpointError:
    reason = _reason(err)
    return UntrustedCheckpointError(
        f'Refused to load checkpoint {source}: it holds Python objects outside the '
        f'allowlist of tensors, numpy values and mmengine HistoryBuffers ({reason}). '
        f'Fully unpickling it could run arbitrary code. If you trust this exact file '
        f'(sha256 {sha256}), opt in with {UNPICKLE_ENV}={sha256} or '
        f"mmav_mask.utils.allow_full_unpickling('{sha256}'), or re-save its tensors "
        f'with torch.save(state_dict).')


def _weights_only(f: Any, map_location: Any, source: str) -> Any:
    with safe_globals():
        try:
            return torch.load(f, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError:
            raise
        except (RuntimeError, EOFError, ValueError, OSError) as err:
            if isinstance(err, FileNotFoundError):
                raise
            # truncated / not a torch file: name the file, keep torch's reason
            raise RuntimeError(f'{source} is not a readable checkpoint (truncated or not '
                               f'written by torch.save): {str(err).splitlines()[0]}') from err


def load_checkpoint_bytes(data: bytes, source: str, map_location: Any = None) -> Any:
    """Loads a checkpoint held in memory under the loading rule.

    Args:
        data: the file's bytes.
        source: name used in errors (path or URL).
        map_location: as :func:`torch.load`.

    Raises:
        UntrustedCheckpointError: objects outside the allowlist and the
            bytes' SHA-256 was not opted in.
    """
    try:
        return _weights_only(io.BytesIO(data), map_location, source)
    except pickle.UnpicklingError as err:
        sha256 = hashlib.sha256(data).hexdigest()
        if sha256 not in _opted_in():
            raise _refusal(source, err, sha256) from None
    print_log(f'Fully unpickling {source} (sha256 {sha256} opted in).', logger='current',
              level=30)
    return torch.load(io.BytesIO(data), map_location=map_location, weights_only=False)


def load_checkpoint_file(path: str, map_location: Any = None) -> Any:
    """Loads a local checkpoint under the loading rule.

    The common case (allowlisted content) reads the file directly. Only when
    it needs full unpickling *and* some SHA-256 was opted in is the file read
    once into memory and hashed, and those bytes are what gets unpickled.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        UntrustedCheckpointError: see :func:`load_checkpoint_bytes`.
    """
    path = osp.expanduser(str(path))
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} can not be found.')
    try:
        return _weights_only(path, map_location, path)
    except pickle.UnpicklingError as err:
        if not _opted_in():
            raise _refusal(path, err, _sha256_stream(path)) from None
    with open(path, 'rb') as f:
        data = f.read()
    return load_checkpoint_bytes(data, path, map_location)


def download_checkpoint(url: str, model_dir: Optional[str] = None,
                        progress: bool = False) -> str:
    """Downloads ``url`` into torch.hub's checkpoint cache (once) and returns the path.

    In distributed runs local rank 0 downloads first and the others wait, as
    mmengine's ``load_from_http`` does.
    """
    from mmengine.dist import barrier, get_dist_info
    if model_dir is None:
        model_dir = osp.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    name = osp.basename(urlparse(url).path) or hashlib.sha256(url.encode()).hexdigest()
    cached = osp.join(model_dir, name)
    rank, world_size = get_dist_info()
    if rank == 0 and not osp.isfile(cached):
        torch.hub.download_url_to_file(url, cached, progress=progress)
    if world_size > 1:
        barrier()
        if not osp.isfile(cached):
            torch.hub.download_url_to_file(url, cached, progress=progress)
    return cached


def load_checkpoint_url(url: str, map_location: Any = None,
                        model_dir: Optional[str] = None) -> Any:
    """Downloads (cached) and loads an ``http(s)://`` checkpoint under the rule."""
    cached = download_checkpoint(url, model_dir)
    try:
        return load_checkpoint_file(cached, map_location)
    except UntrustedCheckpointError as err:
        raise UntrustedCheckpointError(f'{err} (downloaded from {url})') from None


def safe_load(filename: str, map_location: Any = 'cpu') -> Any:
    """Loads a checkpoint from any path or URL mmengine understands, under the rule."""
    from mmengine.runner.checkpoint import CheckpointLoader
    return CheckpointLoader.load_checkpoint(str(filename), map_location=map_location)


# ------------------------------------------------------------- URL schemes
def _loader(name: str, fn: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    fn.__name__ = fn.__qualname__ = name  # mmengine logs name[10:] as the backend
    return fn


def _from_local(filename: str, map_location: Any = None) -> Any:
    return load_checkpoint_file(filename, map_location)


def _from_http(filename: str, map_location: Any = None) -> Any:
    return load_checkpoint_url(filename, map_location)


def _from_torchvision(filename: str, map_location: Any = None) -> Any:
    from mmengine.runner.checkpoint import get_torchvision_models
    name = filename.split('://', 1)[1]
    return load_checkpoint_url(get_torchvision_models()[name], map_location)


def _from_openmmlab(filename: str, map_location: Any = None) -> Any:
    from mmengine.runner import checkpoint as ckpt_mod
    name = filename.split('://', 1)[1]
    name = ckpt_mod.get_deprecated_model_names().get(name, name)
    url = ckpt_mod.get_external_models()[name]
    if url.startswith(('http://', 'https://')):
        return load_checkpoint_url(url, map_location)
    return load_checkpoint_file(osp.join(ckpt_mod._get_mmengine_home(), url), map_location)


def _from_mmcls(filename: str, map_location: Any = None) -> Any:
    from mmengine.runner import checkpoint as ckpt_mod
    url = ckpt_mod.get_mmcls_models()[filename[len('mmcls://'):]]
    return ckpt_mod._process_mmcls_checkpoint(load_checkpoint_url(url, map_location))


def _from_pavi(filename: str, map_location: Any = None) -> Any:
    try:
        from pavi import modelcloud
    except ImportError:
        raise ImportError('Please install pavi to load checkpoint from modelcloud.') from None
    model = modelcloud.get(filename[len('pavi://'):])
    with tempfile.TemporaryDirectory() as tmp_dir:
        downloaded = osp.join(tmp_dir, model.name)
        model.download(downloaded)
        return load_checkpoint_file(downloaded, map_location)


def _from_ceph(filename: str, map_location: Any = None) -> Any:
    from mmengine.fileio import get_file_backend
    backend = get_file_backend(filename, backend_args={'backend': 'petrel'})
    return load_checkpoint_bytes(backend.get(filename), filename, map_location)


# mmengine 0.10.7's schemes -> our loader; tests check that none is left out.
SAFE_SCHEMES: Tuple[Tuple[Tuple[str, ...], Callable], ...] = (
    (('', ), _loader('load_from_local', _from_local)),
    (('http://', 'https://'), _loader('load_from_http', _from_http)),
    (('modelzoo://', 'torchvision://'), _loader('load_from_torchvision', _from_torchvision)),
    (('open-mmlab://', 'openmmlab://'), _loader('load_from_openmmlab', _from_openmmlab)),
    (('mmcls://', ), _loader('load_from_mmcls', _from_mmcls)),
    (('pavi://', ), _loader('load_from_pavi', _from_pavi)),
    ((r'(\S+\:)?s3://', r'(\S+\:)?petrel://'), _loader('load_from_ceph', _from_ceph)),
)


def register_safe_loaders() -> None:
    """Puts the safe loaders behind every scheme of mmengine's CheckpointLoader.

    Uses the public ``CheckpointLoader.register_scheme(..., force=True)``;
    mmengine's own loaders use ``torch.hub`` / ``torch.load`` defaults
    (``weights_only=False`` for URLs).
    """
    from mmengine.runner.checkpoint import CheckpointLoader
    for prefixes, loader in SAFE_SCHEMES:
        CheckpointLoader.register_scheme(list(prefixes), loader, force=True)


# ------------------------------------------------------------------ writing
_PLAIN = (str, bytes, int, float, bool, complex, type(None), torch.dtype, torch.device,
          torch.Tensor)


def make_checkpoint_safe(obj: Any, where: str = 'checkpoint'
                         ) -> Tuple[Any, List[str]]:
    """Returns ``obj`` with only types that load under the allowlist.

    Containers are rebuilt as ``dict``/``OrderedDict``/``list``/``tuple``/
    ``set`` (subclasses such as mmengine's ``ConfigDict`` or namedtuples
    become their plain base), numpy object arrays become lists, and any other
    object is dropped.

    Args:
        obj: checkpoint (or part of it).
        where: dotted name of ``obj`` for the report.

    Returns:
        (safe copy sharing tensors/arrays with ``obj``, dotted names of dropped objects).
    """
    dropped: List[str] = []

    def walk(value: Any, name: str) -> Any:
        if isinstance(value, _PLAIN) or type(value) is torch.Size:
            return value
        if isinstance(value, HistoryBuffer):
            return value
        if isinstance(value, np.ndarray):
            return walk(value.tolist(), name) if value.dtype.hasobject else value
        if isinstance(value, np.generic):
            return walk(value.item(), name) if value.dtype.hasobject else value
        if isinstance(value, dict):
            cls = type(value) if type(value) in (OrderedDict, Counter) else dict
            items = ((k, walk(v, f'{name}.{k}')) for k, v in value.items()
                     if isinstance(k, (str, int, float, bool, type(None), tuple)))
            out = cls((k, v) for k, v in items if v is not _DROP)
            dropped.extend(f'{name}.{k!r}' for k in value
                           if not isinstance(k, (str, int, float, bool, type(None), tuple)))
            return out
        if isinstance(value, (list, tuple, set, frozenset)):
            items = [walk(v, f'{name}[{i}]') for i, v in enumerate(value)]
            items = [v for v in items if v is not _DROP]
            if isinstance(value, (set, frozenset)):
                return set(items)
            return items if isinstance(value, list) else tuple(items)
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        dropped.append(f'{name} ({type(value).__module__}.{type(value).__qualname__})')
        return _DROP

    return walk(obj, where), dropped


_DROP = object()


def unsafe_globals(data: Union[bytes, str]) -> List[str]:
    """Globals in a ``torch.save`` zip (bytes or path) that the loaders would reject."""
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    with safe_globals():
        return sorted(torch.serialization.get_unsafe_globals_in_checkpoint(source))


def checkpoint_to_bytes(checkpoint: Any, where: str = 'checkpoint') -> bytes:
    """Serialises ``checkpoint`` (made safe first; drops are logged) to bytes."""
    safe, dropped = make_checkpoint_safe(checkpoint, where)
    if dropped:
        print_log(f'Not saved (not loadable tensors-only): {dropped}', logger='current',
                  level=30)
    with io.BytesIO() as buffer:
        torch.save(safe, buffer)
        data = buffer.getvalue()
    bad = unsafe_globals(data)
    if bad:  # a bug in make_checkpoint_safe: never write what we cannot load
        raise RuntimeError(f'{where} would need full unpickling ({bad}); not written')
    return data


def _remove_stale_temporaries(path: str) -> None:
    """Removes ``.<name>.*.tmp`` left by a writer killed while writing ``path``."""
    directory, name = osp.split(osp.abspath(path))
    prefix = '.' + name + '.'
    for entry in os.listdir(directory):
        if entry.startswith(prefix) and entry.endswith('.tmp') \
                and re.fullmatch(r'[A-Za-z0-9_]+', entry[len(prefix):-4]):
            with contextlib.suppress(OSError):
                os.unlink(osp.join(directory, entry))


def temporary_name(path: str) -> str:
    """A fresh ``.<name>.<random>.tmp`` path next to ``path`` (file created empty)."""
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    _remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(path) + '.', suffix='.tmp',
                               dir=directory)
    os.close(fd)
    return tmp


def fsync_path(path: str) -> None:
    """Flushes a file or directory to disk (no-op where unsupported)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def commit_temporary(tmp: str, path: str) -> None:
    """fsyncs ``tmp`` and renames it over ``path`` (atomic on POSIX)."""
    fsync_path(tmp)
    os.replace(tmp, path)
    fsync_path(osp.dirname(osp.abspath(path)))


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Writes ``data`` to ``path`` so that ``path`` is never partially written."""
    tmp = temporary_name(path)
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
        commit_temporary(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str, text: str) -> None:
    """Writes a small text file (e.g. ``last_checkpoint``) atomically."""
    atomic_write_bytes(path, text.encode('utf-8'))


def save_checkpoint_atomic(checkpoint: Any, path: str) -> None:
    """Writes ``checkpoint`` (allowlisted types only) atomically to ``path``."""
    atomic_write_bytes(path, checkpoint_to_bytes(checkpoint, osp.basename(path)))


_STEP_FILE = re.compile(r'(?:iter|epoch)_(\d+)\.pth$')


def find_latest_checkpoint(path: str) -> Optional[str]:
    """The checkpoint ``--resume`` should continue from in work dir ``path``.

    Follows ``<path>/last_checkpoint`` when it names a URL or an existing file.
    Otherwise the ``iter_N.pth`` / ``epoch_N.pth`` with the largest N: every
    file under such a name is complete, since writers rename it into place
    only after it was fully written and fsynced.
    """
    pointer = osp.join(path, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            last_saved = f.read().strip()
        if last_saved and ('://' in last_saved or osp.isfile(last_saved)):
            return last_saved
    candidates = []
    if osp.isdir(path):
        for name in os.listdir(path):
            match = _STEP_FILE.fullmatch(name)
            if match and osp.isfile(osp.join(path, name)):
                candidates.append((int(match.group(1)), osp.join(path, name)))
    return max(candidates)[1] if candidates else None


__all__ = ['SAFE_GLOBALS', 'SAFE_SCHEMES', 'UNPICKLE_ENV', 'UntrustedCheckpointError',
           'allow_full_unpickling', 'atomic_write_bytes', 'atomic_write_text',
           'checkpoint_to_bytes', 'commit_temporary', 'download_checkpoint',
           'find_latest_checkpoint', 'fsync_path', 'load_checkpoint_bytes',
           'load_checkpoint_file', 'load_checkpoint_url', 'make_checkpoint_safe',
           'register_safe_loaders', 'safe_globals', 'safe_load', 'save_checkpoint_atomic',
           'temporary_name', 'unsafe_globals']
