"""Run crash-prone decoder calls in a forked child so that a decoder crash
(e.g. decord's segfault on an AVI without a complete index, read from memory)
becomes an error naming the file instead of killing the process.

The child is made with :func:`os.fork` (not :mod:`multiprocessing`), so it
also works inside DataLoader workers, which are daemonic and may not start
``multiprocessing`` children. The child inherits the loaded modules (no
import cost), answers with one JSON line per item over a pipe and exits with
``os._exit``; a child that dies (signal) or hangs is replaced by a new one
that goes on with the next item. Batches go through :func:`run_isolated`;
single-file checks (:func:`check_decord_files` with one new file, as
``SafeDecordInit`` and ``AVVideoDataset`` make at run time) go to one
long-lived child per process, so they cost a pipe round trip, not a fork.

Limit: the checks cover opening (and optionally the first and last frame);
decoding the sampled frames still runs in the calling process.
"""
from __future__ import annotations

import io
import json
import os
import select
import signal
import sys
import threading
import time
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

# per-item limit: a decoder that hangs on a file is treated like one that crashed
DEFAULT_TIMEOUT_S = 120.0

# (path, size, mtime_ns, mode, decoded) -> None (fine) or reason; per process
_CHECK_CACHE: Dict[Tuple, Optional[str]] = {}


def _signal_name(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            return f'killed by {signal.Signals(sig).name}'
        except ValueError:
            return f'killed by signal {sig}'
    return f'exited with status {os.WEXITSTATUS(status)}'


def _single_threaded_child() -> None:
    """Makes a freshly forked child safe for torch ops.

    A parent that ran an OpenMP parallel region (torch with more than one
    thread) leaves libgomp's thread pool behind in the child without its
    threads; the child's next parallel region then waits forever on a futex
    (seen as every clip "timing out" with ``OMP_NUM_THREADS=2``). One thread
    keeps torch out of OpenMP regions in the child.
    """
    torch = sys.modules.get('torch')
    if torch is not None:
        torch.set_num_threads(1)


def _child_loop(fn: Callable, items: Sequence, start: int, wfd: int) -> None:
    """Child body: answer ``{"i": index, "r": fn(item)}`` per item, then exit."""
    try:
        with os.fdopen(wfd, 'w', buffering=1) as out:
            for i in range(start, len(items)):
                out.write(json.dumps({'s': i}) + '\n')  # started: names the culprit
                try:
                    result = {'i': i, 'r': fn(items[i])}
                except Exception as e:  # noqa: BLE001 - reported to the parent
                    result = {'i': i, 'e': f'{type(e).__name__}: {e}'}
                out.write(json.dumps(result, default=str) + '\n')
    finally:
        for stream in (sys.stdout, sys.stderr):  # os._exit skips Python's flush
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        os._exit(0)


def run_isolated(fn: Callable, items: Sequence, timeout_s: float = DEFAULT_TIMEOUT_S,
                 on_result: Optional[Callable[[int, bool, object], None]] = None
                 ) -> List[Tuple[bool, object]]:
    """Apply ``fn`` to every item in forked children, surviving their crashes.

    Items are processed in order by one child at a time; only a crash or a
    timeout costs a new fork.

    Args:
        fn: function of one item returning a JSON-serialisable value.
        items: the items (e.g. file paths).
        timeout_s: seconds one item may take before its child is killed.
        on_result: called as ``on_result(index, ok, value)`` for each item
            as soon as its result is known, in item order (for progress
            output).

    Returns:
        One ``(ok, value)`` per item: ``(True, fn(item))``, or ``(False,
        reason)`` when ``fn`` raised (``'ValueError: ...'``), the child died
        (``'decoder crashed (killed by SIGSEGV)'``) or timed out.
    """
    results: List[Optional[Tuple[bool, object]]] = [None] * len(items)
    start = 0
    while start < len(items):
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:  # child
            _single_threaded_child()
            os.close(rfd)
            _child_loop(fn, items, start, wfd)
        os.close(wfd)
        current, buf = start, b''
        deadline = time.monotonic() + timeout_s
        killed = False
        with os.fdopen(rfd, 'rb', buffering=0) as pipe:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    os.kill(pid, signal.SIGKILL)
                    killed = True
                    break
                ready, _, _ = select.select([pipe], [], [], min(left, 1.0))
                if not ready:
                    continue
                chunk = pipe.read(65536)
                if not chunk:
                    break  # child exited (normally or not)
                buf += chunk
                *lines, buf = buf.split(b'\n')
                for line in lines:
                    msg = json.loads(line)
                    if 's' in msg:
                        current = msg['s']
                        deadline = time.monotonic() + timeout_s
                    else:
                        i = msg['i']
                        results[i] = (False, msg['e']) if 'e' in msg else (True, msg['r'])
                        if on_result is not None:
                            on_result(i, *results[i])
        _, status = os.waitpid(pid, 0)
        if results[current] is None:
            why = (f'timed out after {timeout_s:.0f} s' if killed else _signal_name(status))
            results[current] = (False, f'decoder crashed ({why})')
            if on_result is not None:
                on_result(current, *results[current])
        done = [i for i in range(start, len(items)) if results[i] is None]
        start = done[0] if done else len(items)
    return results  # type: ignore[return-value]


def decord_check(path: str, mode: str = 'bytes', decode: bool = True) -> Dict:
    """What ``DecordInit``/``DecordDecode`` do to a file, on a small scale:
    open it (from memory like MMAction2's ``DecordInit`` for ``mode='bytes'``,
    by path for ``'path'``), read length and fps and, with ``decode``, decode
    the first and the last frame.

    Returns:
        ``dict(total_frames, fps)``.

    Raises:
        RuntimeError: decord cannot read the file.
    """
    import decord
    src = io.BytesIO(_read_bytes(path)) if mode == 'bytes' else path
    reader = decord.VideoReader(src, num_threads=1)
    n = len(reader)
    if n <= 0:
        raise RuntimeError('no video frames')
    if decode:
        reader.get_batch([0, n - 1] if n > 1 else [0]).asnumpy()
    return dict(total_frames=int(n), fps=float(reader.get_avg_fps()))


def _read_bytes(path: str) -> bytes:
    with open(path, 'rb') as f:
        return f.read()


class _Check:
    """:func:`decord_check` with fixed options, as :func:`run_isolated`'s ``fn``."""

    def __init__(self, mode: str, decode: bool) -> None:
        self.mode, self.decode = mode, decode

    def __call__(self, path: str) -> Dict:
        return decord_check(path, self.mode, self.decode)


def file_key(path: str, mode: str) -> Tuple:
    """Cache key of a file as opened in ``mode`` (a rewritten file gets a new key)."""
    try:
        st = os.stat(path)
        return (path, st.st_size, st.st_mtime_ns, mode)
    except OSError:
        return (path, None, None, mode)


def remember(path: str, mode: str, error: Optional[str], decoded: bool = True) -> None:
    """Record a check done elsewhere (e.g. the dataset's load-time probe), so
    this process and the DataLoader workers it forks do not repeat it."""
    _CHECK_CACHE[file_key(path, mode) + (decoded,)] = error


def _cached(key: Tuple, decode: bool):
    """(found, error): a decode check also answers an open-only question."""
    for level in ((True,) if decode else (True, False)):
        if key + (level,) in _CHECK_CACHE:
            return True, _CHECK_CACHE[key + (level,)]
    if key + (False,) in _CHECK_CACHE and _CHECK_CACHE[key + (False,)] is not None:
        return True, _CHECK_CACHE[key + (False,)]  # failing to open fails decoding too
    return False, None


class _Sentinel:
    """A long-lived forked child that opens files on request, so checking one
    file costs a pipe round trip and the decoder's work instead of a fork of
    the whole (torch-sized) process. One per process: a DataLoader worker
    forked from the owner starts its own. The child ends when its request
    pipe closes (every process holding it has exited)."""

    def __init__(self) -> None:
        self.pid = None
        self.owner = None
        self.req = self.resp = None
        self.lock = threading.Lock()

    def _start(self) -> None:
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: answer requests until the parent closes the pipe
            try:
                _single_threaded_child()
                os.close(req_w)
                os.close(resp_r)
                with os.fdopen(req_r, 'r') as inp, os.fdopen(resp_w, 'w', buffering=1) as out:
                    for line in inp:
                        path, mode, decode = json.loads(line)
                        try:
                            decord_check(path, mode, decode)
                            out.write('null\n')
                        except Exception as e:  # noqa: BLE001 - sent to the parent
                            out.write(json.dumps(f'{type(e).__name__}: {e}') + '\n')
            finally:
                os._exit(0)
        os.close(req_r)
        os.close(resp_w)
        self.pid, self.owner = pid, os.getpid()
        self.req = os.fdopen(req_w, 'w', buffering=1)
        self.resp = os.fdopen(resp_r, 'rb', buffering=0)

    def _close_pipes(self) -> None:
        for f in (self.req, self.resp):
            try:
                f.close()
            except OSError:
                pass

    def _stop(self, kill: bool = False) -> str:
        """Close the pipes, reap the child; its fate as text."""
        self._close_pipes()
        if kill:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        return _signal_name(status)

    def check(self, path: str, mode: str, decode: bool, timeout_s: float) -> Optional[str]:
        """None when decord reads ``path``, else the reason."""
        with self.lock:
            return self._check(path, mode, decode, timeout_s)

    def _check(self, path: str, mode: str, decode: bool, timeout_s: float) -> Optional[str]:
        if self.pid is not None and self.owner == os.getpid():
            if os.waitpid(self.pid, os.WNOHANG)[0]:  # gone since the last request
                self._close_pipes()
                self.pid = None
        if self.pid is not None and self.owner != os.getpid():
            # inherited from the process that forked us: not ours to use
            self._close_pipes()
            self.pid = None
        if self.pid is None:
            self._start()
        try:
            self.req.write(json.dumps([path, mode, decode]) + '\n')
        except (BrokenPipeError, OSError):
            return f'decoder crashed ({self._stop()})'
        line, deadline = b'', time.monotonic() + timeout_s
        while not line.endswith(b'\n'):
            left = deadline - time.monotonic()
            ready = select.select([self.resp], [], [], max(left, 0))[0] if left > 0 else []
            if not ready:
                self._stop(kill=True)
                return f'decoder crashed (timed out after {timeout_s:.0f} s)'
            chunk = self.resp.read(65536)
            if not chunk:
                return f'decoder crashed ({self._stop()})'
            line += chunk
        return json.loads(line)


_SENTINEL = _Sentinel()


def check_decord_files(paths: Iterable[str], mode: str = 'bytes', decode: bool = True,
                       timeout_s: float = DEFAULT_TIMEOUT_S) -> List[Optional[str]]:
    """Isolated, cached :func:`decord_check` of many files.

    A file is checked once per process (the cache key includes its size and
    modification time, so a rewritten file is checked again).

    Args:
        paths: video files.
        mode: ``'bytes'`` (as ``DecordInit`` opens them) or ``'path'`` (as
            ``SafeDecordInit`` does).
        decode: also decode the first and last frame (else open only).
        timeout_s: per-file limit.

    Returns:
        None per readable file, else a reason (``'decoder crashed (killed by
        SIGSEGV)'``, ``'file not found'``, decord's message).
    """
    if mode not in ('bytes', 'path'):
        raise ValueError(f"mode must be 'bytes' or 'path', got {mode!r}")
    paths = list(paths)
    answers: Dict[str, Optional[str]] = {}
    todo = []
    for p in paths:
        key = file_key(p, mode)
        found, error = _cached(key, decode)
        if found:
            answers[p] = error
        elif key[1] is None:
            answers[p] = 'file not found'
        elif key[1] == 0:
            answers[p] = 'zero-byte file'
        elif p not in todo:
            todo.append(p)
    if len(todo) == 1:
        answers[todo[0]] = _SENTINEL.check(todo[0], mode, decode, timeout_s)
        remember(todo[0], mode, answers[todo[0]], decode)
    elif todo:
        for p, (ok, value) in zip(todo, run_isolated(_Check(mode, decode), todo, timeout_s)):
            answers[p] = None if ok else str(value)
            remember(p, mode, answers[p], decode)
    return [answers[p] for p in paths]
