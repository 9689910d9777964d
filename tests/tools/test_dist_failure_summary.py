"""tools/dist_failure_summary.py on error files laid out as torchrun and the slurm
launchers write them (torch.distributed.elastic's @record format)."""
import json
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools'))
from dist_failure_summary import read_failures, summary  # noqa: E402


def _error(path, message, stamp, line):
    stack = ('Traceback (most recent call last):\n'
             '  File "/x/tools/train.py", line 90, in main\n    run()\n'
             f'  File "/x/model.py", line {line}, in forward\n    raise\n{message}\n')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({'message': {'message': message, 'extraInfo': {
        'py_callstack': stack, 'timestamp': str(stamp)}}}))


def test_torchrun_layout_earliest_failure_wins_and_ranks_are_global(tmp_path):
    attempt = tmp_path / 'none_abc' / 'attempt_0'
    _error(attempt / '0' / 'error.json', 'RuntimeError: peer closed', 1000, 5)
    _error(attempt / '3' / 'error.json', 'ValueError: bad shape (2, 3)\nsecond line', 990, 42)
    failures = read_failures(str(tmp_path), node_rank=1, nproc=4)
    assert [(f.rank, f.timestamp) for f in failures] == [(7, 990), (4, 1000)]
    text = summary(str(tmp_path), node_rank=1, nproc=4, exit_code=1).splitlines()
    assert text[0].startswith('distributed run failed (exit code 1): first failing rank 7 at ')
    assert text[1] == '  ValueError: bad shape (2, 3)'
    assert text[2] == '  raised at /x/model.py:42 in forward'
    assert text[3] == f"  traceback: {attempt / '3' / 'error.json'}"
    assert text[4] == '  also failed: rank 4 (RuntimeError: peer closed)'


def test_slurm_layout_and_ties(tmp_path):
    _error(tmp_path / 'error_5.json', 'KeyError: x', 7, 1)
    _error(tmp_path / 'error_2.json', 'OSError: disk', 7, 1)
    assert [f.rank for f in read_failures(str(tmp_path))] == [2, 5]


def test_no_error_file_is_said_plainly(tmp_path):
    (tmp_path / 'error.json').write_text('not json')
    text = summary(str(tmp_path), exit_code=-9)
    assert 'no worker wrote an error file' in text and 'exit code -9' in text
