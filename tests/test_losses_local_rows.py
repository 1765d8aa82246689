"""Under a real 2-process gloo run, clip/negclip/cement compute only their own rank's rows
(open_clip's ``local_loss``) and still give the loss, diagnostics and gradients of one process
on the global batch, the learnable temperature's included; the global form (``local_rows=False``)
holds all N rows on every rank. SigLIP's losses hold their own rows too (their loss and
gradients are checked in tests/test_loss_methods_ddp.py)."""


import pytest
import torch
import torch.nn.functional as F

from slipform.losses import ContrastiveLoss, LossConfig, build_loss, ddp_scale

from ddp_harness import on_two_gloo_ranks, rank_part

N, K, DIN, D = 8, 2, 6, 5
KINDS = ("clip", "negclip", "cement")
KEYS = ("loss", "loss_i2t", "loss_t2i", "loss_image_negatives", "grad_pos", "grad_easy", "grad_hard")


def _data():
    g = torch.Generator().manual_seed(3)
    x_img, x_txt = torch.randn(N, DIN, generator=g), torch.randn(N, DIN, generator=g)
    x_hard, x_neg = torch.randn(N, K, DIN, generator=g), torch.randn(N, DIN, generator=g)
    mask = torch.rand(N, K, generator=g) > 0.3
    conc = torch.rand(N, K, generator=g) * 4 + 1
    neg_ok = torch.arange(N) >= N // 2 + 1  # rank 0 has no edited image at all, rank 1 three
    mask[N // 2 + 1:, 0] = True
    return x_img, x_txt, x_hard, x_neg, mask, conc, neg_ok


class Towers(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(1)
        self.img, self.txt = torch.nn.Linear(DIN, D), torch.nn.Linear(DIN, D)
        self.logit_scale = torch.nn.Parameter(torch.tensor(2.3))

    def forward(self, x_img, x_txt, x_hard, x_neg):
        img = F.normalize(self.img(torch.cat([x_img, x_neg])), dim=-1)
        return (img[: len(x_img)], F.normalize(self.txt(x_txt), dim=-1), F.normalize(self.txt(x_hard), dim=-1),
                img[len(x_img):], self.logit_scale.exp())


def _record(loss, shapes):
    get_logits = loss.get_logits

    def recorded(*args):  # the hook: which logits this rank holds
        out = get_logits(*args)
        shapes.append(tuple(tuple(t.shape) for t in out if isinstance(t, torch.Tensor) and t.is_floating_point()))
        return out

    loss.get_logits = recorded


def _siglip_shapes(name, x_img, x_txt, x_hard, x_neg, mask, conc, neg_ok):
    loss, shapes = build_loss(LossConfig(name)), []
    _record(loss, shapes)
    model = Towers()
    f_img, f_txt, f_hard, _, scale = model(x_img, x_txt, x_hard, x_neg)
    loss(f_img, f_txt, scale, f_hard, mask, conc, logit_bias=torch.tensor(-3.0, requires_grad=True))
    return shapes


def _step(model, kind, local_rows, x_img, x_txt, x_hard, x_neg, mask, conc, neg_ok):
    loss = ContrastiveLoss(LossConfig(kind=kind, margin_min=0.05, margin_max=0.3), local_rows=local_rows)
    shapes = []
    _record(loss, shapes)
    f_img, f_txt, f_hard, f_neg, scale = model(x_img, x_txt, x_hard, x_neg)
    out = loss(f_img, f_txt, scale, f_hard, mask, conc, f_neg, neg_ok)
    (out["loss"] * ddp_scale()).backward()
    return {"values": {k: out[k].detach() for k in KEYS if k in out}, "shapes": shapes}


def _worker(rank):
    part = rank_part(rank, N)
    results = {}
    for kind in KINDS:
        for local_rows in (True, False):
            model = torch.nn.parallel.DistributedDataParallel(Towers())
            res = _step(model, kind, local_rows, *[t[part] for t in _data()])
            res["grads"] = {n: p.grad for n, p in model.module.named_parameters()}
            results[kind, local_rows] = res
    for name in ("siglip", "cement_siglip"):
        results[name] = _siglip_shapes(name, *[t[part] for t in _data()])
    return results


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    return on_two_gloo_ranks(_worker, tmp_path_factory.mktemp("local"))


@pytest.mark.parametrize("kind", KINDS)
def test_each_rank_holds_its_own_rows_only(ranks, kind):
    n, cols = N // 2, N * (1 + (0 if kind == "clip" else K))
    for res in ranks:
        assert res[kind, True]["shapes"] == [((n, cols), (n, N))]  # local: n rows, all N (+ N*K) columns
        assert res[kind, False]["shapes"] == [((N, cols), (N, N))]  # global: every rank all N rows


@pytest.mark.parametrize("name", ["siglip", "cement_siglip"])
def test_siglip_ranks_hold_their_own_rows_only(ranks, name):
    n = N // 2
    for res in ranks:  # pairs (n, N), their signs (n, N), negatives (n, N*K)
        assert res[name] == [((n, N), (n, N), (n, N * K))]
    assert _siglip_shapes(name, *_data()) == [((N, N), (N, N), (N, N * K))]


@pytest.mark.parametrize("kind", KINDS)
def test_local_rows_give_the_loss_and_gradients_of_one_process(ranks, kind):
    model = Towers()
    single = _step(model, kind, True, *_data())
    assert single["shapes"] == [((N, N * (1 + (0 if kind == "clip" else K))), (N, N))]
    assert "loss_image_negatives" in single["values"] or kind == "clip"
    for res in ranks:
        for local_rows in (True, False):
            got = res[kind, local_rows]
            assert got["values"].keys() == single["values"].keys()
            for key, value in single["values"].items():
                torch.testing.assert_close(got["values"][key], value, rtol=1e-5, atol=1e-6, equal_nan=True,
                                           msg=f"{kind} local_rows={local_rows}: {key}")
            for name, p in model.named_parameters():
                torch.testing.assert_close(got["grads"][name], p.grad, rtol=1e-5, atol=1e-6,
                                           msg=f"{kind} local_rows={local_rows}: {name}")
