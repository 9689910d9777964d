"""tools/analysis/plot_loss_curves.py on tiny fake mmengine logs: resumed runs
join into one curve, epoch means, fallback key, clear errors, a PNG per call."""
import importlib.util
import json
import os.path as osp

import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _tool():
    spec = importlib.util.spec_from_file_location(
        'plot_loss_curves', osp.join(REPO, 'tools', 'analysis', 'plot_loss_curves.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write_run(work_dir, stamp, records, name='scalars.json'):
    vis = work_dir / stamp / 'vis_data'
    vis.mkdir(parents=True)
    with open(vis / name, 'w') as f:
        for r in records:
            f.write(json.dumps(r) + '\n')


def _train(epoch, it, loss):
    # mmengine's train line: lr, losses, epoch, iter (global), step (global)
    return dict(lr=1e-3, loss=loss, loss_rec=loss, epoch=epoch, iter=it, step=it)


def test_resumed_runs_epochs_and_png(tmp_path, capsys):
    tool = _tool()
    wd = tmp_path / 'avmask_demo'
    # run 1: epochs 1-2 (2 iters each) + a val line; killed mid-line in epoch 3
    _write_run(wd, '20260101_000000', [
        _train(1, 1, 1.0), _train(1, 2, 0.8), dict(**{'rec/masked_mse': 0.9}, step=1),
        _train(2, 3, 0.6), _train(2, 4, 0.4), _train(3, 5, 9.9)])
    with open(wd / '20260101_000000' / 'vis_data' / 'scalars.json', 'a') as f:
        f.write('{"loss": 0.3, "ep')  # truncated line is skipped
    # run 2 (resumed from epoch 2): iteration 5 again, with the value that counts
    _write_run(wd, '20260102_000000', [_train(3, 5, 0.3), _train(3, 6, 0.1)])
    records = tool.read_records(tool.find_logs(str(wd)))
    xs, ys = tool.loss_curve(records, 'loss_rec', 'iter')
    np.testing.assert_array_equal(xs, [1, 2, 3, 4, 5, 6])
    np.testing.assert_allclose(ys, [1.0, 0.8, 0.6, 0.4, 0.3, 0.1])
    xs, ys = tool.loss_curve(records, 'loss_rec', 'epoch')
    np.testing.assert_array_equal(xs, [1, 2, 3])
    np.testing.assert_allclose(ys, [0.9, 0.5, 0.2])

    # a second work dir with only 'loss' logged (fallback) in a <timestamp>.json
    other = tmp_path / 'videomae'
    _write_run(other, '20260101_000000', [dict(loss=2.0, epoch=1, step=1),
                                          dict(loss=1.0, epoch=2, step=2)],
               name='20260101_000000.json')
    out = tmp_path / 'curves.png'
    assert tool.main([str(wd), str(other), '--out', str(out), '--labels', 'AV', 'VideoMAE']) == 0
    text = capsys.readouterr().out
    assert 'AV: 3 points' in text and 'last 0.2000' in text
    assert 'VideoMAE: 2 points' in text and 'first 2.0000' in text
    with open(out, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'


def test_smooth_and_errors(tmp_path):
    tool = _tool()
    np.testing.assert_allclose(tool.smooth(np.array([1.0, 3.0, 5.0]), 2), [1.0, 2.0, 4.0])
    with pytest.raises(FileNotFoundError, match='no mmengine log'):
        tool.find_logs(str(tmp_path))
    with pytest.raises(KeyError, match='no training record'):
        tool.loss_curve([dict(acc=1.0, step=1)], 'loss_rec', 'iter')
    with pytest.raises(KeyError, match='no epoch'):
        tool.loss_curve([dict(loss_rec=1.0, step=1)], 'loss_rec', 'epoch')
    xs, _ = tool.loss_curve([dict(loss_rec=1.0, step=s) for s in range(1, 7)], 'loss_rec',
                            'epoch', iters_per_epoch=4)
    np.testing.assert_array_equal(xs, [1, 2])
