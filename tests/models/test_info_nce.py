"""InfoNCELoss: hand-computed values, options, and 2-process parity of the gather."""
import math
import os.path as osp

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmaction.registry import MODELS
from torch import nn

import mmav_mask  # noqa: F401
from mmav_mask.models.losses import InfoNCELoss

R = 1 / math.sqrt(2)
# a = (1,0), (0,1), (1,1); b = (1,0), (1,1), (-1,1): cosine matrix S[i][j] = cos(a_i, b_j)
A3 = torch.tensor([[1., 0.], [0., 1.], [1., 1.]])
B3 = torch.tensor([[1., 0.], [1., 1.], [-1., 1.]])
S3 = [[1.0, R, -R],
      [0.0, R, R],
      [R, 1.0, 0.0]]


def _hand_loss(s, tau, rows=None, cols=None):
    """-1/|rows| sum_i log softmax(S[i, cols] / tau)[i], from the formula."""
    rows = range(len(s)) if rows is None else rows
    cols = range(len(s)) if cols is None else cols
    total = 0.0
    for i in rows:
        denom = sum(math.exp(s[i][j] / tau) for j in cols)
        total += -(s[i][i] / tau - math.log(denom))
    return total / len(rows)


def _transpose(s):
    return [list(col) for col in zip(*s)]


def test_hand_computed_3x3():
    tau = 0.5
    one_way = InfoNCELoss(temperature=tau, symmetric=False)(A3, B3)
    expected = _hand_loss(S3, tau)
    # by hand, logits S / 0.5 = [2, 1.414, -1.414], [0, 1.414, 1.414], [1.414, 2, 0]:
    # l1 = -2 + ln(e^2 + e^1.414 + e^-1.414) = 0.4634,
    # l2 = -1.414 + ln(1 + 2 e^1.414) = 0.8079, l3 = -0 + ln(e^1.414 + e^2 + 1) = 2.5259;
    # mean 1.2657
    assert expected == pytest.approx(1.2657, abs=2e-4)
    assert float(one_way) == pytest.approx(expected, rel=1e-6)
    both = InfoNCELoss(temperature=tau, symmetric=True)(A3, B3)
    expected_sym = 0.5 * (expected + _hand_loss(_transpose(S3), tau))
    assert float(both) == pytest.approx(expected_sym, rel=1e-6)
    assert expected_sym != pytest.approx(expected, rel=1e-3)  # the case is asymmetric


def test_symmetric_is_mean_of_directions_and_scale_invariance():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(6, 8, generator=gen), torch.randn(6, 8, generator=gen)
    ab = InfoNCELoss(0.2, symmetric=False)(a, b)
    ba = InfoNCELoss(0.2, symmetric=False)(b, a)
    assert float(ab) != pytest.approx(float(ba), rel=1e-3)
    assert float(InfoNCELoss(0.2)(a, b)) == pytest.approx(0.5 * float(ab + ba), rel=1e-6)
    # cosine: rescaling embeddings changes nothing
    assert float(InfoNCELoss(0.2)(3 * a, 0.5 * b)) == pytest.approx(float(InfoNCELoss(0.2)(a, b)),
                                                                      rel=1e-5)


@pytest.mark.parametrize('tau', [0.1, 0.5, 1.0])
def test_temperature_on_aligned_orthonormal_pairs(tau):
    # a_i = b_i = e_i: S = I, so l_i = -1/tau + log(e^(1/tau) + (B - 1)) for every i
    n = 4
    eye = torch.eye(n)
    expected = -1 / tau + math.log(math.exp(1 / tau) + n - 1)
    assert float(InfoNCELoss(tau)(eye, eye)) == pytest.approx(expected, rel=1e-3, abs=1e-6)


def test_lower_temperature_sharpens():
    eye = torch.eye(4)
    losses = [float(InfoNCELoss(t)(eye, eye)) for t in (1.0, 0.5, 0.1)]
    assert losses[0] > losses[1] > losses[2]


def test_loss_weight():
    assert float(InfoNCELoss(0.5, loss_weight=0.1)(A3, B3)) == pytest.approx(
        0.1 * float(InfoNCELoss(0.5)(A3, B3)), rel=1e-6)


def test_valid_mask_drops_anchor_and_negative():
    tau = 0.5
    valid = torch.tensor([True, False, True])
    a = A3.clone().requires_grad_()
    b = B3.clone().requires_grad_()
    loss = InfoNCELoss(tau, symmetric=False)(a, b, valid)
    expected = _hand_loss(S3, tau, rows=[0, 2], cols=[0, 2])
    assert float(loss.detach()) == pytest.approx(expected, rel=1e-6)
    loss.backward()
    assert a.grad[1].abs().sum() == 0 and b.grad[1].abs().sum() == 0
    # whatever the invalid sample holds, the loss is the same
    other = InfoNCELoss(tau, symmetric=False)(A3, B3 + torch.tensor([[0.], [5.], [0.]]), valid)
    assert float(other) == pytest.approx(float(loss.detach()), rel=1e-6)


def test_no_valid_sample_gives_attached_zero():
    a = torch.randn(3, 4, requires_grad=True)
    loss = InfoNCELoss()(a, torch.randn(3, 4), torch.zeros(3, dtype=torch.bool))
    assert float(loss) == 0.0
    loss.backward()
    assert torch.equal(a.grad, torch.zeros_like(a))


def test_bad_inputs_name_the_problem():
    loss = InfoNCELoss()
    with pytest.raises(ValueError, match='same shape'):
        loss(torch.randn(3, 4), torch.randn(3, 5))
    with pytest.raises(ValueError, match='valid'):
        loss(torch.randn(3, 4), torch.randn(3, 4), torch.ones(3))
    with pytest.raises(ValueError, match='temperature'):
        InfoNCELoss(temperature=0.0)


def test_registered():
    loss = MODELS.build(dict(type='InfoNCELoss', temperature=1.0, loss_weight=0.01))
    assert isinstance(loss, InfoNCELoss) and loss.temperature == 1.0


# ---------------------------------------------------------------- distributed parity
D_IN, D_EMB = 5, 4


class TwoTowers(nn.Module):
    """A small linear layer per modality before the loss."""

    def __init__(self) -> None:
        super().__init__()
        self.fa = nn.Linear(D_IN, D_EMB)
        self.fb = nn.Linear(D_IN, D_EMB)

    def forward(self, xa, xb):
        return self.fa(xa), self.fb(xb)


def _data(n):
    gen = torch.Generator().manual_seed(3)
    xa = torch.randn(n, D_IN, generator=gen)
    xb = xa @ torch.randn(D_IN, D_IN, generator=gen) * 0.5 + torch.randn(n, D_IN, generator=gen)
    valid = torch.ones(n, dtype=torch.bool)
    valid[1] = False  # one sample without audio, on rank 0
    return xa, xb, valid


def _step(model, xa, xb, valid, loss_cfg):
    xa, xb = xa.clone().requires_grad_(), xb.clone().requires_grad_()
    a, b = model(xa, xb)
    loss = MODELS.build(loss_cfg)(a, b, valid)
    loss.backward()
    grads = {n.replace('module.', '', 1): p.grad.clone() for n, p in model.named_parameters()}
    return dict(loss=loss.detach(), grads=grads, gxa=xa.grad, gxb=xb.grad)


def _worker(rank, world, tmp, sizes, loss_cfg):
    from torch.nn.parallel import DistributedDataParallel
    dist.init_process_group('gloo', init_method=f'file://{tmp}/pg', rank=rank,
                            world_size=world)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = DistributedDataParallel(TwoTowers())  # CPU: no device_ids
    xa, xb, valid = _data(sum(sizes))
    lo = sum(sizes[:rank])
    hi = lo + sizes[rank]
    out = _step(model, xa[lo:hi], xb[lo:hi], valid[lo:hi], loss_cfg)
    torch.save(out, osp.join(tmp, f'rank{rank}.pt'))
    dist.destroy_process_group()


def _run_parity(tmp_path, sizes, loss_cfg):
    torch.manual_seed(0)
    ref = _step(TwoTowers(), *_data(sum(sizes)), loss_cfg)
    mp.start_processes(_worker, args=(2, str(tmp_path), sizes, loss_cfg), nprocs=2,
                       start_method='fork')
    return ref, [torch.load(tmp_path / f'rank{r}.pt', weights_only=True) for r in range(2)]


@pytest.mark.parametrize('sizes', [(3, 3), (4, 2)], ids=['even', 'uneven'])
@pytest.mark.parametrize('symmetric', [True, False], ids=['sym', 'one_way'])
def test_two_processes_match_one_process(tmp_path, sizes, symmetric):
    cfg = dict(type='InfoNCELoss', temperature=0.1, loss_weight=0.5, symmetric=symmetric)
    ref, ranks = _run_parity(tmp_path, sizes, cfg)
    world = 2
    # the mean of the per-process losses is the loss of the whole batch
    mean_loss = sum(float(r['loss']) for r in ranks) / world
    assert mean_loss == pytest.approx(float(ref['loss']), rel=1e-5)
    # DDP averages the parameter gradients: each process holds the whole-batch gradient
    for name, g in ref['grads'].items():
        for r in range(world):
            torch.testing.assert_close(ranks[r]['grads'][name], g, rtol=1e-4, atol=1e-6)
    # input gradients: the gather's backward sums all processes' terms, i.e.
    # world_size x the single-process gradient (the parameter average divides it out)
    lo = 0
    for r, n in enumerate(sizes):
        for key in ('gxa', 'gxb'):
            torch.testing.assert_close(ranks[r][key] / world, ref[key][lo:lo + n],
                                       rtol=1e-4, atol=1e-6)
        lo += n
    assert ranks[0]['gxa'][1].abs().sum() == 0  # the invalid sample gets no gradient


def test_parity_fails_without_gather(tmp_path):
    """The parity check can fail: with local negatives only the gradients differ."""
    cfg = dict(type='InfoNCELoss', temperature=0.1)
    ref, _ = _run_parity(tmp_path, (3, 3), cfg)
    (tmp_path / 'local').mkdir()
    _, local = _run_parity(tmp_path / 'local', (3, 3), dict(cfg, gather=False))
    assert any(not torch.allclose(local[0]['grads'][n], g, rtol=1e-3, atol=1e-6)
               for n, g in ref['grads'].items())
