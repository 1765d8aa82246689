"""Every registered loss under a real 2-process gloo run: the loss and the gradients of one
process on the global batch, the learnable logit scale and bias included, over two steps
(CE-CLIP's thresholds carry from the first to the second); a loss with an EMA teacher gets the
features of a perturbed copy of the towers as the teacher's."""

import copy

import torch
import torch.nn.functional as F

from slipform.losses import LossConfig, build_loss, ddp_scale, get_loss, list_losses

from ddp_harness import on_two_gloo_ranks, rank_part

N, K, DIN, D = 8, 2, 6, 5


def _data():
    g = torch.Generator().manual_seed(0)
    x_img, x_txt = torch.randn(N, DIN, generator=g), torch.randn(N, DIN, generator=g)
    x_hard, x_neg_img = torch.randn(N, K, DIN, generator=g), torch.randn(N, DIN, generator=g)
    mask = torch.rand(N, K, generator=g) > 0.3
    conc = torch.rand(N, K, generator=g) * 4 + 1
    neg_ok = torch.rand(N, generator=g) > 0.3
    return x_img, x_txt, x_hard, x_neg_img, mask, conc, neg_ok


class Towers(torch.nn.Module):
    def __init__(self, name):
        super().__init__()
        torch.manual_seed(1)
        self.img, self.txt = torch.nn.Linear(DIN, D), torch.nn.Linear(DIN, D)
        self.logit_scale = torch.nn.Parameter(torch.tensor(2.3))
        # DDP wants every parameter used: a bias only for the sigmoid losses (the trainer freezes it otherwise)
        self.logit_bias = torch.nn.Parameter(torch.tensor(-3.0)) if get_loss(name).uses_logit_bias else None

    def forward(self, x_img, x_txt, x_hard, x_neg_img):
        img = F.normalize(self.img(torch.cat([x_img, x_neg_img])), dim=-1)
        return (img[: len(x_img)], F.normalize(self.txt(x_txt), dim=-1), F.normalize(self.txt(x_hard), dim=-1),
                img[len(x_img):], self.logit_scale.exp(), self.logit_bias)


def _teacher(model):
    teacher = copy.deepcopy(getattr(model, "module", model)).requires_grad_(False)
    with torch.no_grad():
        for p in teacher.parameters():
            p.mul_(0.9)
    return teacher


def _run(model, name, x_img, x_txt, x_hard, x_neg_img, mask, conc, neg_ok, options=None):
    loss = build_loss(LossConfig(name, margin_min=0.05, margin_max=0.3, options=options or {}))
    teacher, extra = _teacher(model) if loss.teacher_decay is not None else None, {}
    values = []
    for _ in range(2):
        f_img, f_txt, f_hard, f_neg, scale, bias = model(x_img, x_txt, x_hard, x_neg_img)
        if teacher is not None:
            t_img, t_txt, t_hard, *_ = teacher(x_img, x_txt, x_hard, x_neg_img)
            extra = {"teacher_image_features": t_img, "teacher_text_features": t_txt,
                     "teacher_hard_text_features": t_hard}
        out = loss(f_img, f_txt, scale, f_hard, mask, conc, f_neg, neg_ok, logit_bias=bias, **extra)
        (out["loss"] * ddp_scale()).backward()
        values.append(out["loss"].detach())
    return torch.stack(values)


def _worker(rank, runs=None):
    """runs: (key, loss name, options) to run; every registered loss with its defaults if None."""
    results = {}
    for key, name, options in runs or [(name, name, None) for name in list_losses()]:
        model = torch.nn.parallel.DistributedDataParallel(Towers(name))
        losses = _run(model, name, *[t[rank_part(rank, N)] for t in _data()], options=options)
        results[key] = {"loss": losses, "grads": {n: p.grad for n, p in model.module.named_parameters()}}
    return results


def test_every_loss_on_two_gloo_processes_equals_one_process(tmp_path):
    ranks = on_two_gloo_ranks(_worker, tmp_path)
    for name in list_losses():
        model = Towers(name)
        single = _run(model, name, *_data())
        for res in ranks:
            torch.testing.assert_close(res[name]["loss"], single, rtol=1e-5, atol=1e-6, msg=name)
            for pname, p in model.named_parameters():
                torch.testing.assert_close(res[name]["grads"][pname], p.grad, rtol=1e-5, atol=1e-6,
                                           msg=f"{name}: {pname}")
    if "ce_clip" in list_losses():
        assert not torch.equal(*ranks[0]["ce_clip"]["loss"].unbind())
