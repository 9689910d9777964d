"""tools/analysis/avmae_tables.py: the training subset it writes, and its tables
(mean ± sample std over seeds, paired differences to random init) against
hand-computed values."""

import pytest
from cli_utils import load_tool

tool = load_tool('tools/analysis/avmae_tables.py', 'avmae_tables')


def _data(tmp_path):
    root = tmp_path / 'data'
    root.mkdir()
    train = ''.join(f'C{k}/v_{i}.mp4 {k}\n' for k in range(2) for i in range(5))
    (root / tool.TRAIN_LIST).write_text(train)
    (root / tool.TEST_LIST).write_text(''.join(f'C{k}/t_{i}.mp4 {k}\n'
                                               for k in range(2) for i in range(4)))
    return root


def test_train_subset_keeps_the_first_clips_of_each_class(tmp_path):
    root = _data(tmp_path)
    args = tool.parse_args(['--data-root', str(root), '--work-dir', str(tmp_path / 'w'),
                            '--train-per-class', '2'])
    data = tool.ensure_data(args)
    with open(data['train']) as f:
        assert f.read() == 'C0/v_0.mp4 0\nC0/v_1.mp4 0\nC1/v_0.mp4 1\nC1/v_1.mp4 1\n'
    assert data['test'] == str(root / tool.TEST_LIST)


def test_tables_mean_std_and_paired_difference(tmp_path):
    root = _data(tmp_path)
    args = tool.parse_args(['--data-root', str(root), '--work-dir', str(tmp_path / 'w'),
                            '--variants', 'none', 'mid_shared', '--modes', 'audio',
                            '--seeds', '0', '1', '2'])
    data = tool.ensure_data(args)
    runs = [dict(seed=0, variant='none', audio_top1=0.50),
            dict(seed=1, variant='none', audio_top1=0.25),
            dict(seed=2, variant='none', audio_top1=0.75),
            dict(seed=0, variant='mid_shared', audio_top1=0.75, **{'rec/audio_masked_mse': 0.1}),
            dict(seed=1, variant='mid_shared', audio_top1=0.25, **{'rec/audio_masked_mse': 0.2}),
            dict(seed=2, variant='mid_shared', audio_top1=1.00, **{'rec/audio_masked_mse': 0.3})]
    text = tool.tables(args, data, runs, baseline=0.0123)
    # none: mean 0.5, sample std sqrt(((0)^2 + 0.25^2 + 0.25^2) / 2) = 0.25
    assert '| none | - | - | - | 0.500 ± 0.250 |' in text
    # mid: mean 2/3, std of (0.75, 0.25, 1.0) = 0.3819; audio mse 0.2 ± 0.1
    assert '| avmae_demo_mid_shared | - | - | 0.200 ± 0.100 | 0.667 ± 0.382 |' in text
    # paired differences (0.25, 0.0, 0.25): mean 0.1667, std 0.1443
    assert '| avmae_demo_mid_shared | 0.167 ± 0.144 |' in text
    assert '8 held-out clips (one clip = 0.1250)' in text and '0.0123' in text


def test_unknown_variant_is_refused(capsys):
    with pytest.raises(SystemExit):
        tool.parse_args(['--variants', 'mid_sharde'])
    assert 'no configs/avmae_demo_mid_sharde.py' in capsys.readouterr().err
