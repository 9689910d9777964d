"""Names the first failing rank of a distributed run and its error.

``tools/train.py`` and ``tools/test.py`` wrap ``main`` in torch.distributed.elastic's
``@record``, so every worker that raises writes its exception to the JSON error file
named by ``TORCHELASTIC_ERROR_FILE`` (torchrun sets one per worker under ``--log-dir``;
the slurm launchers set ``error_<SLURM_PROCID>.json``). The launchers call this script
when the run fails, so the cause ends the output instead of sitting deep in it.

Usage:
    python tools/dist_failure_summary.py ERROR_DIR [--node-rank N --nproc-per-node P]
"""
from __future__ import annotations

import argparse
import datetime
import glob
import json
import os.path as osp
import re
from typing import List, NamedTuple, Optional

_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')


class Failure(NamedTuple):
    timestamp: int
    rank: int
    message: str
    where: str
    path: str


def _rank(path: str, root: str, node_rank: int, nproc: int) -> int:
    """torchrun: <root>/<run>/attempt_<k>/<local rank>/error.json; slurm: error_<rank>.json."""
    name = osp.basename(path)
    match = re.fullmatch(r'error_(\d+)\.json', name)
    if match:
        return int(match.group(1))
    local = osp.basename(osp.dirname(path))
    return node_rank * nproc + int(local) if local.isdigit() else -1


def read_failures(root: str, node_rank: int = 0, nproc: int = 1) -> List[Failure]:
    """Every error file below ``root``, earliest first (ties: lower rank first)."""
    failures = []
    for path in glob.glob(osp.join(root, '**', 'error*.json'), recursive=True):
        try:
            with open(path) as f:
                message = json.load(f)['message']
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if isinstance(message, str):  # torchrun's form for signal deaths
            text, stack, stamp = message, '', 0
        else:
            extra = message.get('extraInfo', {})
            text = str(message.get('message', '?'))
            stack, stamp = extra.get('py_callstack', ''), int(extra.get('timestamp', 0) or 0)
        frames = _FRAME.findall(stack)
        where = f'{frames[-1][0]}:{frames[-1][1]} in {frames[-1][2]}' if frames else '?'
        failures.append(Failure(stamp, _rank(path, root, node_rank, nproc), text, where, path))
    return sorted(failures, key=lambda f: (f.timestamp, f.rank))


def summary(root: str, node_rank: int = 0, nproc: int = 1,
            exit_code: Optional[int] = None) -> str:
    """A few lines: the first failing rank, its error and where it was raised."""
    head = 'distributed run failed' + (f' (exit code {exit_code})' if exit_code else '')
    failures = read_failures(root, node_rank, nproc)
    if not failures:
        return (f'{head}: no worker wrote an error file (killed by a signal, out of memory '
                f'or a native crash?); see the launcher output above.')
    first = failures[0]
    when = datetime.datetime.fromtimestamp(first.timestamp).strftime('%H:%M:%S')
    lines = [f'{head}: first failing rank {first.rank} at {when}',
             f'  {first.message.splitlines()[0] if first.message else "?"}',
             f'  raised at {first.where}',
             f'  traceback: {first.path}']
    others = [f'rank {f.rank} ({f.message.splitlines()[0][:80]})' for f in failures[1:]]
    if others:
        lines.append('  also failed: ' + '; '.join(others))
    return '\n'.join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('error_dir')
    parser.add_argument('--node-rank', type=int, default=0)
    parser.add_argument('--nproc-per-node', type=int, default=1)
    parser.add_argument('--exit-code', type=int, default=None)
    args = parser.parse_args(argv)
    print(summary(args.error_dir, args.node_rank, args.nproc_per_node, args.exit_code),
          flush=True)


if __name__ == '__main__':
    main()
