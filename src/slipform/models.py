"""One small interface over open_clip and Hugging Face CLIP models.

:class:`ClipModel` holds the network and exposes ``tokenize``, ``preprocess``,
``encode_image``, ``encode_text`` and ``logit_scale``; its ``forward`` returns normalised
features for the trainer (and DDP). ``encode_image_tokens`` and ``encode_text_tokens`` give
patch and token features in the joint space as well (FSC-CLIP's local loss). Load with :func:`load_model` from a :class:`ModelSpec`:

- ``open_clip``: an architecture (``ViT-B-32``) with a pretrained tag (``openai``,
  ``laion2b_s34b_b79k``), a local checkpoint, or random weights; or a custom config dict
  (the tests' tiny models).
- ``hf``: a ``transformers`` CLIPModel or SiglipModel directory or hub id (the config's
  ``model_type`` says which; a SigLIP model brings its learnable ``logit_bias``, so ``--loss
  siglip`` fine-tunes it as pretrained; its tokenizer is the directory's, ``AutoTokenizer``).

The QuickGELU pitfall: OpenAI's weights (and several LAION tags) were trained with
QuickGELU, while ``ViT-B-32`` builds a GELU model; open_clip only warns, and the model then
silently scores worse. :func:`load_model` switches QuickGELU on when the pretrained tag asks
for it and says so, and refuses a Slipform checkpoint whose recorded activation differs from
the requested one.

Export with :func:`export_open_clip` (a checkpoint ``open_clip.create_model`` loads) and
:func:`export_hf` (a directory ``CLIPModel.from_pretrained`` loads, with tokenizer and image
processor).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from .safeload import load_tensors

log = logging.getLogger(__name__)
FAMILIES = ("open_clip", "hf")
HF_TYPES = ("clip", "siglip")  # transformers model_type values the hf family loads


@dataclass(frozen=True)
class ModelSpec:
    family: str = "open_clip"
    name: str = "ViT-B-32"  # open_clip architecture, or HF directory / hub id
    pretrained: str | None = "openai"  # open_clip tag or checkpoint path; None: random init
    config: dict | None = field(default=None, hash=False)  # custom open_clip model config
    quick_gelu: bool | None = None  # None: as the pretrained tag requires

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f"unknown model family {self.family!r}; choose from {FAMILIES}")


class ClipModel(torch.nn.Module):
    """A CLIP-style model behind one interface; ``forward`` gives normalised features."""

    def __init__(self, family: str, model: torch.nn.Module, tokenizer, preprocess_train, preprocess_val,
                 meta: dict):
        super().__init__()
        self.family, self.model, self._tokenizer = family, model, tokenizer
        self.preprocess_train, self.preprocess = preprocess_train, preprocess_val
        self.meta = meta

    def tokenize(self, texts: list[str]) -> torch.Tensor:
        if self.family == "open_clip":
            return self._tokenizer(texts)
        ctx = self.model.config.text_config.max_position_embeddings
        return self._tokenizer(texts, padding="max_length", truncation=True, max_length=ctx,
                               return_tensors="pt")["input_ids"]

    def encode_image(self, images: torch.Tensor, normalize: bool = True) -> torch.Tensor:
        if self.family == "open_clip":
            x = self.model.encode_image(images)
        else:
            x = _features(self.model.get_image_features(pixel_values=images))
        return F.normalize(x, dim=-1) if normalize else x

    def encode_text(self, tokens: torch.Tensor, normalize: bool = True) -> torch.Tensor:
        if self.family == "open_clip":
            x = _open_clip_text(self.model, tokens)
        elif self.meta.get("model_type") == "siglip":  # bidirectional, last-token pooled: every token counts
            x = _features(self.model.get_text_features(input_ids=tokens))
        else:  # HF CLIP: the end token is the largest id and attention is causal, so the cut is safe
            x = _features(self.model.get_text_features(input_ids=_cut_after_end(tokens)))
        return F.normalize(x, dim=-1) if normalize else x

    def encode_image_tokens(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(pooled (n, D), patches (n, P, D))``, unnormalised, both in the joint space, from one
        pass (see :mod:`slipform.dense`): the pooled features are ``encode_image``'s."""
        if self.family == "hf":
            return _hf_image_tokens(self.model, images)
        visual = self.model.visual
        if isinstance(visual, _open_clip_module("ModifiedResNet")):
            return _resnet_tokens(visual, images)
        if isinstance(visual, _open_clip_module("VisionTransformer")):
            return _vit_tokens(visual, images)
        raise ValueError(f"patch features are not available for an image tower of type {type(visual).__name__} "
                         "(for fsc_clip: --loss-option local_weight=0)")

    def encode_text_tokens(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(pooled (m, D), token features (m, L, D), mask (m, L) bool)``, unnormalised, in the
        joint space, from one pass; L is the context cut after the batch's last end token, the
        mask keeps each caption's words and its end token (not the start token nor padding)."""
        if self.family == "hf":
            tokens = _cut_after_end(tokens)
            out = self.model.text_model(input_ids=tokens)
            words = self.model.text_projection(out.last_hidden_state)
        else:
            words, tokens = _open_clip_text_tokens(self.model, tokens)
        end = tokens.argmax(dim=1)  # CLIP's end token has the largest id; pooling reads it
        rows = torch.arange(len(tokens), device=tokens.device)
        place = torch.arange(tokens.shape[1], device=tokens.device)
        mask = (place[None] >= 1) & (place[None] <= end[:, None])
        return words[rows, end], words, mask

    @property
    def logit_scale(self) -> torch.Tensor:
        """1/τ, exponentiated and capped at 100 as in CLIP; a scalar (HF SigLIP stores it as (1,))."""
        return self.model.logit_scale.exp().clamp(max=100).reshape(())

    @property
    def logit_bias(self) -> torch.Tensor | None:
        """SigLIP's learnable bias b of the logits t·s + b (open_clip's ``logit_bias``); None without one."""
        return getattr(self.model, "logit_bias", None)

    def add_logit_bias(self, value: float) -> None:
        """Give a model without one a learnable ``logit_bias`` (for a sigmoid loss); it is saved
        with the weights and :func:`load_model` restores it from a Slipform checkpoint."""
        self.model.logit_bias = torch.nn.Parameter(torch.tensor(float(value)))
        self.meta["logit_bias"] = True

    def forward(self, images: torch.Tensor | None = None, tokens: torch.Tensor | None = None,
                candidates: torch.Tensor | None = None, choose=None, dense: bool = False):
        """``(image features, text features, logit scale)``, normalised.

        With ``dense``: a last value, the dict ``image_tokens`` (n, P, D), ``text_tokens``
        (m, L, D) and ``text_token_mask`` (m, L), unnormalised (:meth:`encode_image_tokens`,
        :meth:`encode_text_tokens`), from the same pass as the pooled features.

        With ``candidates`` (N, K, L) and ``choose`` (hardest-of-K selection, :mod:`slipform.select`):
        the candidates are encoded without gradient, ``choose(image_features[:N], candidate_features)``
        returns one index per caption, and the chosen candidates' tokens are encoded (with gradient)
        after ``tokens``; a fourth value, the picks (N,), is returned. One call, so that under DDP
        the selection happens inside the wrapped forward."""
        img = patches = words = mask = None
        if images is not None:
            img, patches = self.encode_image_tokens(images) if dense else (self.encode_image(images, False), None)
            img = F.normalize(img, dim=-1)
        pick = None
        if candidates is not None:
            n, k, _ = candidates.shape
            with torch.no_grad():
                cand = self.encode_text(candidates.flatten(0, 1)).view(n, k, -1)
            pick = choose(img[:n].detach(), cand).to(candidates.device)
            tokens = torch.cat([tokens, candidates[torch.arange(n, device=candidates.device), pick]])
        txt = None
        if tokens is not None:
            txt, words, mask = self.encode_text_tokens(tokens) if dense else (self.encode_text(tokens, False), None, None)
            txt = F.normalize(txt, dim=-1)
        out = (img, txt, self.logit_scale) if pick is None else (img, txt, self.logit_scale, pick)
        return out + ({"image_tokens": patches, "text_tokens": words, "text_token_mask": mask},) if dense else out

    def fingerprint(self) -> str:
        """A short hash of the weights, to key caches of features."""
        h = hashlib.blake2b(digest_size=8)
        h.update(json.dumps(self.meta, sort_keys=True, default=str).encode())
        for name, tensor in sorted(self.model.state_dict().items()):
            h.update(name.encode())
            h.update(tensor.detach().float().cpu().numpy().tobytes()[:4096])
        return h.hexdigest()


def _cut_after_end(tokens: torch.Tensor) -> torch.Tensor:
    """Captions are short: cut the padded context (77) after the batch's last end token (CLIP's
    tokenizer gives it the largest id). Under a causal mask tokens never see what follows them,
    so argmax-pooled features are unchanged."""
    return tokens[:, : int(tokens.argmax(dim=1).max()) + 1]


def _open_clip_text(model, tokens: torch.Tensor) -> torch.Tensor:
    """open_clip's ``CLIP.encode_text``, on a cut context where that cannot change the features.

    Only a CLIP text tower with a causal mask and argmax (end-token) pooling is cut; any other
    (SigLIP's bidirectional, last-token pooled tower, whose tokenizer's end token is not the
    largest id) gets the tokens as given."""
    import open_clip

    full = getattr(model, "positional_embedding", None)
    if type(model) is not open_clip.CLIP or getattr(model, "text_pool_type", "argmax") != "argmax" or \
            model.attn_mask is None or full is None:
        return model.encode_text(tokens)  # the model's own path, full context
    tokens = _cut_after_end(tokens)
    n = tokens.shape[1]
    if n >= full.shape[0]:
        return model.encode_text(tokens)
    from open_clip.transformer import text_global_pool

    cast = model.transformer.get_cast_dtype()
    x = model.token_embedding(tokens).to(cast) + full[:n].to(cast)
    x = model.ln_final(model.transformer(x, attn_mask=model.attn_mask[:n, :n]))
    x = text_global_pool(x, tokens, "argmax")
    return x @ model.text_projection if not isinstance(model.text_projection, torch.nn.Linear) \
        else model.text_projection(x)


# --------------------------------------------------------------------------- token and patch features

def _open_clip_module(name: str) -> type:
    import open_clip.modified_resnet
    import open_clip.transformer

    return getattr(open_clip.transformer, name, None) or getattr(open_clip.modified_resnet, name)


def _open_clip_text_tokens(model, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Every token of a causal, argmax-pooled open_clip text tower after ``ln_final``, projected
    as the end token is (FSC-CLIP's ``text_tokens``), on the cut context; and the cut tokens."""
    import open_clip

    if type(model) is not open_clip.CLIP or getattr(model, "text_pool_type", "argmax") != "argmax" or \
            model.attn_mask is None:
        raise ValueError("token features need a CLIP text tower with a causal mask and end-token pooling "
                         "(for fsc_clip: --loss-option local_weight=0)")
    tokens = _cut_after_end(tokens)
    n = tokens.shape[1]
    cast = model.transformer.get_cast_dtype()
    x = model.token_embedding(tokens).to(cast) + model.positional_embedding[:n].to(cast)
    x = model.ln_final(model.transformer(x, attn_mask=model.attn_mask[:n, :n]))
    proj = model.text_projection
    return (proj(x) if isinstance(proj, torch.nn.Linear) else x @ proj), tokens


def _vit_tokens(visual, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """open_clip ViT: the patch tokens after ``ln_post`` (the class token dropped), through the
    same ``proj`` as the pooled class token (the authors' ``return_dense_tokens``)."""
    if visual.attn_pool is not None or visual.final_ln_after_pool:
        raise ValueError("patch features need a ViT whose tokens all pass ln_post, without an attentional "
                         "pooler (for fsc_clip: --loss-option local_weight=0)")
    was = visual.output_tokens
    visual.output_tokens = True  # open_clip then also returns the unprojected tokens of the same pass
    try:
        pooled, tokens = visual(images)
    finally:
        visual.output_tokens = was
    return pooled, (tokens @ visual.proj if visual.proj is not None else tokens)


def _resnet_tokens(visual, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """open_clip ModifiedResNet: the last (h, w) grid, each cell with its positional embedding,
    through the attention pool's value and output projections (``c_proj(v_proj(x_j + pos_j))``,
    MaskCLIP's dense features, Zhou et al. 2022). The pooled feature is, per head, the attention
    average of exactly these vectors (and of the mean token's), so patches and pooled share the
    joint space; with uniform attention it is their mean. FSC-CLIP's code has no ResNet path."""
    x = visual.layer4(visual.layer3(visual.layer2(visual.layer1(visual.stem(images)))))
    pool = visual.attnpool
    pooled = pool(x)
    grid = x.flatten(2).transpose(1, 2)  # (n, h*w, C)
    grid = grid + pool.positional_embedding[1:].to(grid.dtype)
    return pooled, pool.c_proj(pool.v_proj(grid))


def _hf_image_tokens(model, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Hugging Face CLIP: ``last_hidden_state``'s patch tokens through ``post_layernorm`` (which
    HF applies to the class token only) and ``visual_projection``, as the pooled class token."""
    vision = model.vision_model
    out = vision(pixel_values=images)
    pooled = model.visual_projection(out.pooler_output)
    return pooled, model.visual_projection(vision.post_layernorm(out.last_hidden_state[:, 1:]))


def _features(out):
    # transformers 5 returns a model output object where older versions returned the tensor
    return out if isinstance(out, torch.Tensor) else out.pooler_output


# --------------------------------------------------------------------------- loading

def _needs_quick_gelu(arch: str, tag: str | None) -> bool:
    import open_clip

    if not tag or Path(tag).exists():
        return False
    cfg = open_clip.get_pretrained_cfg(arch, tag) or {}
    return bool(cfg.get("quick_gelu", False))


def _read_slipform_meta(path: str) -> dict:
    ckpt = load_tensors(path, "checkpoint")  # a refused or damaged file: one clear line (ValueError)
    return ckpt.get("slipform", {}) if isinstance(ckpt, dict) else {}


def _load_open_clip(spec: ModelSpec) -> ClipModel:
    import open_clip

    if spec.config is not None:
        cfg = dict(spec.config)
        quick = bool(spec.quick_gelu if spec.quick_gelu is not None else cfg.pop("quick_gelu", False))
        cfg.pop("quick_gelu", None)
        model = open_clip.CLIP(**cfg, quick_gelu=quick)
        if spec.pretrained:
            _load_state(model, spec.pretrained)
        ctx = cfg["text_cfg"].get("context_length", 77)
        tokenizer = open_clip.SimpleTokenizer(context_length=ctx)
        size = cfg["vision_cfg"]["image_size"]
        meta = {"family": "open_clip", "name": spec.name, "config": spec.config, "quick_gelu": quick}
    else:
        quick = spec.quick_gelu
        if quick is None:
            quick = _needs_quick_gelu(spec.name, spec.pretrained)
            if quick and "quickgelu" not in spec.name.lower():
                log.warning("pretrained weights %r of %s were trained with QuickGELU: using QuickGELU "
                            "(pass quick_gelu=False to override)", spec.pretrained, spec.name)
        if spec.pretrained and Path(spec.pretrained).exists():
            recorded = _read_slipform_meta(spec.pretrained).get("quick_gelu")
            if recorded is not None and bool(recorded) != bool(quick):
                raise ValueError(
                    f"{spec.pretrained} was trained with quick_gelu={recorded} but the model is being built with "
                    f"quick_gelu={quick}; load it with quick_gelu={recorded} (--quick-gelu) or it will score worse")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the QuickGELU warning is handled above
            bias = {"init_logit_bias": 0.0} if spec.pretrained and Path(spec.pretrained).exists() and \
                _read_slipform_meta(spec.pretrained).get("logit_bias") else {}  # see ClipModel.add_logit_bias
            model = open_clip.create_model(spec.name, pretrained=spec.pretrained, force_quick_gelu=bool(quick),
                                           weights_only=True, **bias)
        tokenizer = open_clip.get_tokenizer(spec.name)
        size = model.visual.image_size
        cfg = open_clip.get_model_config(spec.name)
        meta = {"family": "open_clip", "name": spec.name, "pretrained": spec.pretrained, "quick_gelu": bool(quick),
                "config": cfg}
    mean = getattr(model.visual, "image_mean", None) or open_clip.OPENAI_DATASET_MEAN
    std = getattr(model.visual, "image_std", None) or open_clip.OPENAI_DATASET_STD
    train = open_clip.image_transform(size, is_train=True, mean=mean, std=std)
    val = open_clip.image_transform(size, is_train=False, mean=mean, std=std)
    meta.update(image_size=size if isinstance(size, int) else list(size), mean=list(mean), std=list(std))
    return ClipModel("open_clip", model, tokenizer, train, val, meta)


def _load_state(model: torch.nn.Module, path: str) -> None:
    ckpt = load_tensors(path, "checkpoint")
    state = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else ckpt
    state = {k.removeprefix("module."): v for k, v in state.items()}
    if "logit_bias" in state and getattr(model, "logit_bias", None) is None:  # a CLIP fine-tuned with a sigmoid loss
        model.logit_bias = torch.nn.Parameter(torch.zeros_like(state["logit_bias"]))
    model.load_state_dict(state)


def _load_hf(spec: ModelSpec) -> ClipModel:
    from transformers import AutoConfig

    kind = AutoConfig.from_pretrained(spec.name).model_type
    if kind == "siglip":
        from transformers import AutoTokenizer, SiglipImageProcessor, SiglipModel

        # google/siglip-* ship a SentencePiece SiglipTokenizer (needs the sentencepiece package)
        model, tokenizer = SiglipModel.from_pretrained(spec.name), AutoTokenizer.from_pretrained(spec.name)
        proc = SiglipImageProcessor.from_pretrained(spec.name)
    elif kind == "clip":
        from transformers import CLIPImageProcessor, CLIPModel, CLIPTokenizer

        model = CLIPModel.from_pretrained(spec.name)
        tokenizer = CLIPTokenizer.from_pretrained(spec.name)
        proc = CLIPImageProcessor.from_pretrained(spec.name)
    else:
        raise ValueError(f"{spec.name}: Hugging Face model type {kind!r} is not supported; choose from {HF_TYPES}")
    size = model.config.vision_config.image_size
    import open_clip

    train = open_clip.image_transform(size, is_train=True, mean=proc.image_mean, std=proc.image_std)
    val = open_clip.image_transform(size, is_train=False, mean=proc.image_mean, std=proc.image_std)
    meta = {"family": "hf", "name": spec.name, "model_type": kind, "image_size": size, "mean": list(proc.image_mean),
            "std": list(proc.image_std)}
    return ClipModel("hf", model, tokenizer, train, val, meta)


def load_model(spec: ModelSpec) -> ClipModel:
    """Build the model of ``spec`` (downloads only for hub tags/ids, never in the tests)."""
    return _load_open_clip(spec) if spec.family == "open_clip" else _load_hf(spec)


def is_hf_directory(path: str | Path) -> bool:
    """A local Hugging Face model directory: ``save_pretrained`` wrote its ``config.json``."""
    return (Path(path) / "config.json").exists()


# --------------------------------------------------------------------------- export

def export_open_clip(model: ClipModel, path: str | Path) -> Path:
    """A checkpoint that ``open_clip.create_model(arch, pretrained=path)`` loads."""
    if model.family != "open_clip":
        raise ValueError("only an open_clip model exports to an open_clip checkpoint; use export_hf")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": model.model.state_dict(), "slipform": model.meta}, path)
    return path


def _hf_tokenizer_files(directory: Path) -> None:
    """CLIP's BPE vocabulary (open_clip's file) written as Hugging Face's vocab.json and merges.txt."""
    import open_clip.tokenizer as oct

    lines = gzip.open(oct.default_bpe()).read().decode("utf-8").split("\n")[1:49152 - 256 - 2 + 1]
    symbols = list(oct.bytes_to_unicode().values())
    vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m.split()) for m in lines]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    (directory / "vocab.json").write_text(json.dumps({tok: i for i, tok in enumerate(vocab)}, ensure_ascii=False))
    (directory / "merges.txt").write_text("#version: 0.2\n" + "\n".join(lines) + "\n")


def _open_clip_to_hf_state(sd: dict, n_vision: int, n_text: int) -> dict:
    out = {}

    def blocks(src: str, dst: str, n: int):
        for i in range(n):
            s, d = f"{src}.{i}", f"{dst}.{i}"
            q, k, v = sd[f"{s}.attn.in_proj_weight"].chunk(3)
            qb, kb, vb = sd[f"{s}.attn.in_proj_bias"].chunk(3)
            out.update({f"{d}.self_attn.q_proj.weight": q, f"{d}.self_attn.k_proj.weight": k,
                        f"{d}.self_attn.v_proj.weight": v, f"{d}.self_attn.q_proj.bias": qb,
                        f"{d}.self_attn.k_proj.bias": kb, f"{d}.self_attn.v_proj.bias": vb})
            for a, b in (("attn.out_proj", "self_attn.out_proj"), ("ln_1", "layer_norm1"), ("ln_2", "layer_norm2"),
                         ("mlp.c_fc", "mlp.fc1"), ("mlp.c_proj", "mlp.fc2")):
                out[f"{d}.{b}.weight"], out[f"{d}.{b}.bias"] = sd[f"{s}.{a}.weight"], sd[f"{s}.{a}.bias"]

    blocks("transformer.resblocks", "text_model.encoder.layers", n_text)
    blocks("visual.transformer.resblocks", "vision_model.encoder.layers", n_vision)
    out.update({
        "text_model.embeddings.token_embedding.weight": sd["token_embedding.weight"],
        "text_model.embeddings.position_embedding.weight": sd["positional_embedding"],
        "text_model.final_layer_norm.weight": sd["ln_final.weight"], "text_model.final_layer_norm.bias": sd["ln_final.bias"],
        "text_projection.weight": sd["text_projection"].T.contiguous(),
        "vision_model.embeddings.class_embedding": sd["visual.class_embedding"],
        "vision_model.embeddings.patch_embedding.weight": sd["visual.conv1.weight"],
        "vision_model.embeddings.position_embedding.weight": sd["visual.positional_embedding"],
        "vision_model.pre_layrnorm.weight": sd["visual.ln_pre.weight"], "vision_model.pre_layrnorm.bias": sd["visual.ln_pre.bias"],
        "vision_model.post_layernorm.weight": sd["visual.ln_post.weight"],
        "vision_model.post_layernorm.bias": sd["visual.ln_post.bias"],
        "visual_projection.weight": sd["visual.proj"].T.contiguous(),
        "logit_scale": sd["logit_scale"],
    })
    return out


def export_hf(model: ClipModel, directory: str | Path) -> Path:
    """A directory that ``transformers.CLIPModel.from_pretrained`` loads (``SiglipModel`` for a
    SigLIP loaded from Hugging Face), tokenizer and processor included."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPTokenizer

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if model.family == "hf":
        model.model.save_pretrained(directory)
        model._tokenizer.save_pretrained(directory)
        from transformers import SiglipImageProcessor

        proc = SiglipImageProcessor if model.meta.get("model_type") == "siglip" else CLIPImageProcessor
        proc.from_pretrained(model.meta["name"]).save_pretrained(directory)
        return directory
    cfg = model.meta.get("config") or {}
    vc, tc = cfg.get("vision_cfg", {}), cfg.get("text_cfg", {})
    net = model.model
    unsupported = [k for k in ("timm_model_name", "hf_model_name") if k in vc or k in tc]
    if unsupported or not hasattr(net, "token_embedding") or not hasattr(net.visual, "conv1"):
        raise ValueError("Hugging Face export supports open_clip ViT image towers with the standard text "
                         f"transformer; {model.meta.get('name')} is not one")
    sd = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    width_v, width_t = sd["visual.conv1.weight"].shape[0], sd["token_embedding.weight"].shape[1]
    n_v = len({k.split(".")[3] for k in sd if k.startswith("visual.transformer.resblocks.")})
    n_t = len({k.split(".")[2] for k in sd if k.startswith("transformer.resblocks.")})
    act = "quick_gelu" if model.meta.get("quick_gelu") else "gelu"
    patch = sd["visual.conv1.weight"].shape[-1]
    config = CLIPConfig(
        projection_dim=sd["visual.proj"].shape[1], logit_scale_init_value=float(sd["logit_scale"]),
        text_config=dict(vocab_size=sd["token_embedding.weight"].shape[0], hidden_size=width_t,
                         intermediate_size=sd["transformer.resblocks.0.mlp.c_fc.weight"].shape[0],
                         num_hidden_layers=n_t, num_attention_heads=tc.get("heads", width_t // 64),
                         max_position_embeddings=sd["positional_embedding"].shape[0], hidden_act=act,
                         bos_token_id=49406, eos_token_id=49407, pad_token_id=0),
        vision_config=dict(hidden_size=width_v, intermediate_size=sd["visual.transformer.resblocks.0.mlp.c_fc.weight"].shape[0],
                           num_hidden_layers=n_v, num_attention_heads=width_v // vc.get("head_width", 64),
                           image_size=model.meta["image_size"] if isinstance(model.meta["image_size"], int)
                           else model.meta["image_size"][0], patch_size=patch, hidden_act=act))
    hf = CLIPModel(config)
    missing, unexpected = hf.load_state_dict(_open_clip_to_hf_state(sd, n_v, n_t), strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or unexpected:
        raise ValueError(f"Hugging Face export could not map weights: missing {missing[:5]}, unexpected {unexpected[:5]}")
    hf.save_pretrained(directory)
    _hf_tokenizer_files(directory)
    # pads with <|endoftext|> like openai/clip-vit-*: after the first end token, padding is masked out
    tok = CLIPTokenizer(str(directory / "vocab.json"), str(directory / "merges.txt"),
                        model_max_length=config.text_config.max_position_embeddings)
    tok.save_pretrained(directory)
    size = config.vision_config.image_size
    CLIPImageProcessor(size={"shortest_edge": size}, crop_size={"height": size, "width": size},
                       image_mean=model.meta["mean"], image_std=model.meta["std"]).save_pretrained(directory)
    return directory


def tiny_open_clip_config(embed_dim: int = 32, image_size: int = 32, context_length: int = 32) -> dict:
    """A few-hundred-thousand-parameter ViT CLIP for tests and the CPU world."""
    return {"embed_dim": embed_dim,
            "vision_cfg": {"image_size": image_size, "patch_size": 8, "width": 64, "layers": 2, "head_width": 32},
            "text_cfg": {"context_length": context_length, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2}}
