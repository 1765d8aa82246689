"""FSC-CLIP's local token-patch hard-negative loss: the towers' token and patch features (open_clip
ViT and ModifiedResNet, Hugging Face CLIP), the loss against a loop reference, 2 gloo processes
against one, and the trainer (resume, a tiny run whose loss falls)."""

import json
import math

import pytest
import torch
import torch.nn.functional as F

from slipform.experiment.config import ProtocolConfig
from slipform.losses import LossConfig, build_loss, ddp_scale
from slipform.models import ModelSpec, export_hf, load_model, tiny_open_clip_config
from test_loss_methods import _batch, _dot, _fsc_ref, _lse
from test_train_losses import _config, _data, _interrupt_after, _Stop

from ddp_harness import on_two_gloo_ranks, rank_part

CAPTIONS = ["a red square left of a blue circle", "two zebras", "a dog on a red sofa"]
WORLD_RESNET = ProtocolConfig().model_config()  # the world's tiny ModifiedResNet: 48 px, a 1x1 last grid
RESNET = {**WORLD_RESNET, "vision_cfg": {**WORLD_RESNET["vision_cfg"], "image_size": 64}}  # a 2x2 grid


@pytest.fixture(scope="module")
def vit():
    torch.manual_seed(0)
    return load_model(ModelSpec("open_clip", "tiny", None, tiny_open_clip_config())).eval()


@pytest.fixture(scope="module")
def resnet():
    torch.manual_seed(0)
    return load_model(ModelSpec("open_clip", "tiny-resnet", None, RESNET)).eval()


def _check_text(model, tokens):
    with torch.no_grad():
        pooled, words, mask = model.encode_text_tokens(tokens)
        plain = model.encode_text(tokens, normalize=False)
    lengths = [int(t.argmax()) for t in tokens]  # the end token's place
    assert words.shape == (len(tokens), max(lengths) + 1, pooled.shape[1]) and mask.shape == words.shape[:2]
    for row, end in zip(mask, lengths):  # the words and the end token; not the start token, nor padding
        assert row.tolist() == [False] + [True] * end + [False] * (len(row) - end - 1)
    torch.testing.assert_close(pooled, plain, atol=1e-5, rtol=1e-5)
    rows = torch.arange(len(tokens))
    torch.testing.assert_close(words[rows, torch.tensor(lengths)], plain, atol=1e-5, rtol=1e-5)
    return words


def test_open_clip_vit_patches_and_tokens(vit):
    images = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        pooled, patches = vit.encode_image_tokens(images)
        plain = vit.encode_image(images, normalize=False)
        visual = vit.model.visual  # by hand: ln_post on every token, the class token dropped, then proj
        x = visual.transformer(visual._embeds(images))
        want = visual.ln_post(x)[:, 1:] @ visual.proj
    assert patches.shape == (3, 16, 32)  # (32 / 8)^2 patches in the 32-d joint space
    torch.testing.assert_close(pooled, plain)
    torch.testing.assert_close(patches, want, atol=1e-5, rtol=1e-5)
    assert not visual.output_tokens  # the flag is put back
    _check_text(vit, vit.tokenize(CAPTIONS))


def test_open_clip_resnet_patches_are_what_attention_pooling_averages(resnet):
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        pooled, patches = resnet.encode_image_tokens(images)
        torch.testing.assert_close(pooled, resnet.encode_image(images, normalize=False))
        assert patches.shape == (2, 4, 64)  # 64 px / 32: a 2x2 grid, in the 64-d joint space
        # with the queries' weights zeroed attention is uniform: the pooled feature is then the
        # mean of the patch features and the mean token's, each c_proj(v_proj(x + pos))
        pool = resnet.model.visual.attnpool
        saved = pool.q_proj.weight.clone(), pool.q_proj.bias.clone()
        pool.q_proj.weight.zero_()
        pool.q_proj.bias.zero_()
        try:
            pooled, patches = resnet.encode_image_tokens(images)
            v = resnet.model.visual
            grid = v.layer4(v.layer3(v.layer2(v.layer1(v.stem(images))))).flatten(2).mean(2)
            mean_token = pool.c_proj(pool.v_proj(grid + pool.positional_embedding[0]))
            torch.testing.assert_close(pooled, (patches.sum(1) + mean_token) / 5, atol=1e-5, rtol=1e-5)
        finally:
            pool.q_proj.weight.copy_(saved[0])
            pool.q_proj.bias.copy_(saved[1])
    _check_text(resnet, resnet.tokenize(CAPTIONS))


def test_hugging_face_patches_and_tokens_equal_the_open_clip_ones(vit, tmp_path):
    pytest.importorskip("transformers")
    hf = load_model(ModelSpec("hf", str(export_hf(vit, tmp_path / "hf")))).eval()
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        pooled, patches = hf.encode_image_tokens(images)
        want_pooled, want = vit.encode_image_tokens(images)
    torch.testing.assert_close(pooled, hf.encode_image(images, normalize=False), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(patches, want, atol=1e-5, rtol=1e-5)
    words = _check_text(hf, hf.tokenize(CAPTIONS))
    with torch.no_grad():
        theirs = vit.encode_text_tokens(vit.tokenize(CAPTIONS))
    mask = theirs[2]
    torch.testing.assert_close(words[mask], theirs[1][mask], atol=1e-5, rtol=1e-5)


def test_the_dense_forward_returns_the_plain_forward_and_the_tokens(vit):
    images, tokens = torch.randn(3, 3, 32, 32), vit.tokenize(CAPTIONS)
    with torch.no_grad():
        img, txt, scale = vit(images, tokens)
        img2, txt2, scale2, dense = vit(images, tokens, dense=True)
    torch.testing.assert_close(img2, img)
    torch.testing.assert_close(txt2, txt, atol=1e-6, rtol=1e-5)
    assert dense["image_tokens"].shape == (3, 16, 32) and dense["text_tokens"].shape[:2] == dense["text_token_mask"].shape
    assert torch.allclose(F.normalize(img2, dim=-1), img2)


# --------------------------------------------------------------------------- the loss


def _tokens(n=5, k=3, p=4, length=6, d=8, seed=1):
    """Patches (n, P, D) and words (n, L, D) / (n, K, L, D), unnormalised, with masks of
    different lengths (the first place always valid)."""
    g = torch.Generator().manual_seed(seed)
    patches = torch.randn(n, p, d, generator=g) * 2
    words, hard = torch.randn(n, length, d, generator=g), torch.randn(n, k, length, d, generator=g)
    lengths = torch.randint(1, length + 1, (n, 1 + k), generator=g)
    place = torch.arange(length)
    mask = place < lengths[..., None]  # (n, 1+K, L)
    return patches, words, mask[:, 0], hard, mask[:, 1:]


def _score_ref(patches, words, mask, t, normalizer="minmax", sparsify=False):
    """S = log Σ_l exp(t cos(w_l, v_l)), v_l the patches weighted by their min-max (or softmax)
    rescaled similarity to w_l, written out per token."""
    terms = []
    for w, ok in zip(words, mask):
        if not ok:
            continue
        sims = [_dot(w, p) for p in patches]
        if normalizer == "softmax":
            top = _lse(sims)
            a = [math.exp(s - top) for s in sims]
        else:
            lo, hi = min(sims), max(sims)
            a = [(s - lo) / (hi - lo) for s in sims]
            if sparsify:
                a = [x if x >= 1 / len(sims) else 0.0 for x in a]
            a = [x / sum(a) for x in a]
        v = sum(x * p for x, p in zip(a, patches))
        terms.append(t * _dot(v, w) / (float(v.norm()) * float(w.norm())))
    return _lse(terms)


def _focal_ref(z, gamma=2.0, eps=0.02):
    top = _lse(z)
    q = [math.exp(x - top) for x in z]
    y = [(1 - eps) + eps / len(z)] + [eps / len(z)] * (len(z) - 1)
    return sum(y[c] * (1 - q[c]) ** gamma * -math.log(q[c]) for c in range(len(z)))


def _local_ref(patches, words, wmask, hard, hmask, mask, t, **kw):
    rows = []
    for i in range(len(patches)):
        cands = [(words[i], wmask[i])] + [(hard[i, h], hmask[i, h]) for h in range(mask.shape[1]) if mask[i, h]]
        if len(cands) > 1:
            rows.append(_focal_ref([_score_ref(patches[i], w, m, t, **kw) for w, m in cands]))
    return sum(rows) / len(rows)


def _kwargs(patches, words, wmask, hard, hmask):
    return {"image_tokens": patches, "text_tokens": words, "text_token_mask": wmask, "hard_text_tokens": hard,
            "hard_text_token_mask": hmask}


@pytest.mark.parametrize("opts", [{}, {"local_weight": 0.7, "sim_normalizer": "softmax"},
                                  {"sim_sparsify": True}])
def test_the_local_loss_against_the_loop_reference(opts):
    img, txt, hard, mask, conc = _batch(n=5, k=3, missing=((0, 0), (2, 0), (2, 1), (2, 2)))  # row 2: none
    toks = _tokens()
    loss = build_loss(LossConfig("fsc_clip", options=opts))
    out = loss(img, txt, 10.0, hard, mask, conc, **_kwargs(*toks))
    ref_opts = {k: v for k, v in opts.items() if k in ("sim_normalizer", "sim_sparsify")}
    local = _local_ref(*toks, mask, 10.0, **{{"sim_normalizer": "normalizer", "sim_sparsify": "sparsify"}[k]: v
                                             for k, v in ref_opts.items()})
    assert out["loss_local_hard_negatives"].item() == pytest.approx(local, rel=1e-5)
    weight = opts.get("local_weight", 0.2)  # the authors' --local-neg-weight
    assert out["loss"].item() == pytest.approx(_fsc_ref(img, txt, hard, mask, 10.0) + weight * local, rel=1e-5)


def test_local_weight_zero_is_the_global_loss_and_needs_no_tokens():
    img, txt, hard, mask, conc = _batch(n=5, k=3)
    toks = _tokens()
    plain = build_loss(LossConfig("fsc_clip"))(img, txt, 10.0, hard, mask, conc)
    off = build_loss(LossConfig("fsc_clip", options={"local_weight": 0.0}))
    assert not off.needs_tokens and build_loss(LossConfig("fsc_clip")).needs_tokens
    got = off(img, txt, 10.0, hard, mask, conc, **_kwargs(*toks))
    assert torch.equal(got["loss"], plain["loss"]) and "loss_local_hard_negatives" not in got


def test_equal_similarities_and_a_single_patch_give_finite_losses_and_gradients():
    img, txt, hard, mask, conc = _batch(n=4, k=2)
    patches, words, wmask, hwords, hmask = _tokens(n=4, k=2, p=1)  # a 1x1 grid (the world's 48 px ResNet)
    patches.requires_grad_(True)
    out = build_loss(LossConfig("fsc_clip"))(img, txt, 10.0, hard, mask, conc,
                                               **_kwargs(patches, words, wmask, hwords, hmask))
    out["loss"].backward()
    assert torch.isfinite(out["loss_local_hard_negatives"]) and torch.isfinite(patches.grad).all()
    same = torch.ones(4, 3, 8)  # every patch alike: min-max is 0/0, uniform weights instead
    out = build_loss(LossConfig("fsc_clip"))(img, txt, 10.0, hard, mask, conc,
                                               **_kwargs(same, words, wmask, hwords, hmask))
    assert torch.isfinite(out["loss"])


def _authors_local(patches, words, wmask, hard, hmask, valid, t, gamma=2.0, eps=0.02):
    """Local_HNLoss of ytaek-oh/fsc-clip re-derived (min-max weights, an additive -inf mask, the
    focal smoothed choice over the valid classes), for a batch where every negative exists."""
    def score(p, w, m):
        sim = torch.einsum("btd,bpd->btp", w, p)
        sim = (sim - sim.min(-1, keepdim=True)[0]) / (sim.max(-1, keepdim=True)[0] - sim.min(-1, keepdim=True)[0])
        v = F.normalize(torch.einsum("btp,bpd->btd", sim / sim.sum(-1, keepdim=True), p), dim=-1)
        s = t * (v * F.normalize(w, dim=-1)).sum(-1)
        return torch.logsumexp(s + torch.where(m, 0.0, float("-inf")), dim=1)

    k = hard.shape[1]
    logits = torch.stack([score(patches, words, wmask)] + [score(patches, hard[:, h], hmask[:, h]) for h in range(k)], 1)
    v = valid.float()
    per_row = v.sum(-1) + 1
    target = torch.zeros_like(logits)
    target[:, 0] = (1 - eps) + eps / per_row
    target[:, 1:] = (eps / per_row)[:, None] * v
    ce = -F.log_softmax(logits, dim=-1)
    return (target * ce * (1 - torch.exp(-ce)) ** gamma).sum(-1).mean()


def test_the_local_loss_matches_the_authors_formulation_when_every_negative_exists():
    from test_loss_methods import _authors_fsc_global

    img, txt, hard, mask, conc = _batch(n=5, k=3, missing=())
    toks = _tokens()
    want = _authors_fsc_global(img, txt, hard, mask, 50.0) + 0.2 * _authors_local(*toks, mask, 50.0)
    got = build_loss(LossConfig("fsc_clip"))(img, txt, 50.0, hard, mask, conc, **_kwargs(*toks))["loss"]
    assert got.item() == pytest.approx(want.item(), rel=1e-5)


# --------------------------------------------------------------------------- two gloo processes

N, K, P, L, DIN, D = 8, 2, 3, 4, 6, 5


def _ddp_data():
    g = torch.Generator().manual_seed(0)
    xs = [torch.randn(N, DIN, generator=g), torch.randn(N, P, DIN, generator=g), torch.randn(N, DIN, generator=g),
          torch.randn(N, L, DIN, generator=g), torch.randn(N, K, DIN, generator=g),
          torch.randn(N, K, L, DIN, generator=g)]
    mask = torch.rand(N, K, generator=g) > 0.3
    mask[1] = mask[6] = False  # rows without a negative, one on each rank
    lengths = torch.randint(1, L + 1, (N, 1 + K), generator=g)
    tmask = torch.arange(L) < lengths[..., None]
    return xs, mask, tmask[:, 0], tmask[:, 1:]


class _TokenTowers(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(1)
        self.img, self.txt = torch.nn.Linear(DIN, D), torch.nn.Linear(DIN, D)
        self.logit_scale = torch.nn.Parameter(torch.tensor(2.3))

    def forward(self, x_img, x_patch, x_txt, x_words, x_hard, x_hwords):
        return (F.normalize(self.img(x_img), dim=-1), self.img(x_patch), F.normalize(self.txt(x_txt), dim=-1),
                self.txt(x_words), F.normalize(self.txt(x_hard), dim=-1), self.txt(x_hwords), self.logit_scale.exp())


def _ddp_run(model, xs, mask, wmask, hmask):
    loss = build_loss(LossConfig("fsc_clip", options={"local_weight": 0.5}))
    values = []
    for _ in range(2):
        img, patches, txt, words, hard, hwords, scale = model(*xs)
        out = loss(img, txt, scale, hard, mask, None, **_kwargs(patches, words, wmask, hwords, hmask))
        (out["loss"] * ddp_scale()).backward()
        values.append(torch.stack([out["loss"], out["loss_local_hard_negatives"]]).detach())
    return torch.stack(values)


def _ddp_worker(rank):
    part = rank_part(rank, N)
    xs, *masks = _ddp_data()
    model = torch.nn.parallel.DistributedDataParallel(_TokenTowers())
    values = _ddp_run(model, [x[part] for x in xs], *[m[part] for m in masks])
    return {"loss": values, "grads": {n: p.grad for n, p in model.module.named_parameters()}}


def test_the_local_loss_on_two_gloo_processes_equals_one_process(tmp_path):
    ranks = on_two_gloo_ranks(_ddp_worker, tmp_path)
    model = _TokenTowers()
    single = _ddp_run(model, *_ddp_data())
    assert (single[:, 1] > 0).all()
    for res in ranks:
        torch.testing.assert_close(res["loss"], single, rtol=1e-5, atol=1e-6)
        for name, p in model.named_parameters():
            torch.testing.assert_close(res["grads"][name], p.grad, rtol=1e-5, atol=1e-6, msg=name)


# --------------------------------------------------------------------------- the trainer

@pytest.mark.slow
def test_an_interrupted_run_with_the_local_loss_resumes_to_the_same_weights(tmp_path):
    from slipform.train import Trainer

    data = _data(tmp_path, n=16)
    clean = Trainer(_config(tmp_path, data, "fsc_clip", "clean"))
    assert clean.loss.needs_tokens
    clean.fit()
    first = Trainer(_config(tmp_path, data, "fsc_clip", "resumed"))
    _interrupt_after(first, 2)
    with pytest.raises(_Stop):
        first.fit()
    resumed = Trainer(_config(tmp_path, data, "fsc_clip", "resumed"))
    resumed.fit()
    assert resumed.step == clean.step == 4
    a, b = clean.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    rows = [json.loads(x) for x in (tmp_path / "resumed" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4] and all(r["loss_local_hard_negatives"] > 0 for r in rows)


def _cli_train(tmp_path, model_config: dict, local_weight: float, out: str) -> list[dict]:
    from slipform.cli import main

    from conftest import make_pair_data

    data = make_pair_data(tmp_path / "data", n=32)
    config = tmp_path / f"{out}.json"
    config.write_text(json.dumps(model_config))
    run = tmp_path / out
    assert main(["train", "--train", data["train"], "--negatives", data["negatives"], "--image-root",
                 data["image_root"], "--model-config", str(config), "--pretrained", "none", "--epochs", "6",
                 "--batch-size", "16", "--lr", "1e-3", "--warmup", "1", "--workers", "0", "--log-every", "1",
                 "--no-progress", "--loss", "fsc_clip", "--loss-option", f"local_weight={local_weight}",
                 "-o", str(run)]) == 0
    assert json.loads((run / "config.json").read_text())["loss"]["options"] == {"local_weight": local_weight}
    return [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("model_config", [tiny_open_clip_config(),
                                          pytest.param(WORLD_RESNET, marks=pytest.mark.slow)], ids=["vit", "world-resnet"])
def test_train_with_the_local_loss_lowers_it(tmp_path, model_config):
    rows = _cli_train(tmp_path, model_config, 0.5, "run")
    assert len(rows) == 12 and all(math.isfinite(r["loss_local_hard_negatives"]) for r in rows)
    for key in ("loss", "loss_local_hard_negatives"):
        assert sum(r[key] for r in rows[-3:]) < sum(r[key] for r in rows[:3]), key


def test_the_trainer_passes_each_caption_its_own_image_patches_and_negative_tokens(tmp_path):
    from slipform.train import Trainer, _token_kwargs

    trainer = Trainer(_config(tmp_path, _data(tmp_path, n=16), "fsc_clip", batch_size=8))
    batch = next(trainer._loader(0))
    seen = {}
    forward = trainer.loss.forward
    trainer.loss.forward = lambda *a, **kw: seen.update(kw) or forward(*a, **kw)
    with torch.no_grad():
        _, patches = trainer.model.encode_image_tokens(batch["images"])
        _, words, mask = trainer.model.encode_text_tokens(batch["hard_tokens"].flatten(0, 1))
    trainer._train_step([batch])
    torch.testing.assert_close(seen["image_tokens"], patches, atol=1e-5, rtol=1e-5)
    got, got_mask = seen["hard_text_tokens"][:, 0], seen["hard_text_token_mask"][:, 0]
    width = words.shape[1]  # encoded alone, the negatives' context may be cut shorter
    assert torch.equal(got_mask[:, :width], mask) and not got_mask[:, width:].any()
    torch.testing.assert_close(got[:, :width][mask], words[mask], atol=1e-5, rtol=1e-5)
    # K negatives per caption follow the captions caption by caption: (n*K, L, D) -> (n, K, L, D)
    flat = torch.arange(2 + 3 * 2).float()[:, None, None].expand(-1, 4, 1)
    out = _token_kwargs({"image_tokens": torch.zeros(2, 1, 1), "text_tokens": flat,
                         "text_token_mask": torch.ones(8, 4, dtype=torch.bool)}, 2, True)
    assert out["hard_text_tokens"][:, :, 0, 0].tolist() == [[2, 3, 4], [5, 6, 7]]


def test_hardest_of_k_selection_trains_the_local_loss_on_the_chosen_negatives(tmp_path):
    from slipform.select import SelectConfig
    from slipform.train import Trainer

    trainer = Trainer(_config(tmp_path, _data(tmp_path, n=16), "fsc_clip", batch_size=8,
                              select=SelectConfig("hardest", 2)))
    trainer.fit()
    rows = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all(r["loss_local_hard_negatives"] > 0 and "select_sim" in r for r in rows)
