"""The model interface over tiny random open_clip and Hugging Face models; export round trips."""

import pytest
import torch

from slipform.models import (
    ModelSpec,
    _needs_quick_gelu,
    export_hf,
    export_open_clip,
    load_model,
    tiny_open_clip_config,
)

CAPTIONS = ["A dog on a red sofa.", "two zebras, standing in a field!"]


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return load_model(ModelSpec("open_clip", "tiny", None, tiny_open_clip_config())).eval()


def test_interface(tiny):
    tokens = tiny.tokenize(CAPTIONS)
    assert tokens.shape == (2, 32) and tokens[0, 0] == 49406
    pixels = torch.randn(2, 3, 32, 32)
    img, txt, scale = tiny(pixels, tokens)
    assert img.shape == txt.shape == (2, 32)
    assert torch.allclose(img.norm(dim=-1), torch.ones(2)) and scale.item() == pytest.approx(1 / 0.07, rel=1e-4)
    from PIL import Image

    assert tiny.preprocess(Image.new("RGB", (50, 40))).shape == (3, 32, 32)
    assert tiny.fingerprint() == tiny.fingerprint() and len(tiny.fingerprint()) == 16


def test_open_clip_export_reloads(tiny, tmp_path):
    path = export_open_clip(tiny, tmp_path / "model.pt")
    again = load_model(ModelSpec("open_clip", "tiny", str(path), tiny_open_clip_config())).eval()
    tokens = tiny.tokenize(CAPTIONS)
    with torch.no_grad():
        assert torch.equal(again.encode_text(tokens), tiny.encode_text(tokens))


def test_hf_export_reloads_with_the_same_embeddings(tiny, tmp_path):
    transformers = pytest.importorskip("transformers")
    export_hf(tiny, tmp_path / "hf")
    hf = transformers.CLIPModel.from_pretrained(tmp_path / "hf").eval()
    tok = transformers.CLIPTokenizer.from_pretrained(tmp_path / "hf")
    ids = tok(CAPTIONS, padding="max_length", max_length=32, return_tensors="pt")["input_ids"]
    ours = tiny.tokenize(CAPTIONS)
    for row_hf, row_ours in zip(ids.tolist(), ours.tolist()):
        end = row_ours.index(49407) + 1
        # the same BPE ids up to the end token; only padding differs (49407 vs 0), unseen by causal pooling
        assert row_hf[:end] == row_ours[:end] and len(row_ours[:end]) > 5
    pixels = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        a = tiny.encode_image(pixels, normalize=False)
        b = hf.get_image_features(pixel_values=pixels)
        b = b if isinstance(b, torch.Tensor) else b.pooler_output
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
        a = tiny.encode_text(ours, normalize=False)
        b = hf.get_text_features(input_ids=ids)
        b = b if isinstance(b, torch.Tensor) else b.pooler_output
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    # and through our own interface, as a user evaluating the export would
    again = load_model(ModelSpec("hf", str(tmp_path / "hf")))
    with torch.no_grad():
        torch.testing.assert_close(again.encode_text(again.tokenize(CAPTIONS)), tiny.encode_text(ours),
                                   atol=1e-5, rtol=1e-5)
    assert again.meta["image_size"] == 32


def test_quick_gelu_guard(tmp_path):
    assert _needs_quick_gelu("ViT-B-32", "openai") is True
    assert _needs_quick_gelu("ViT-B-32", "laion2b_s34b_b79k") is False
    assert _needs_quick_gelu("ViT-B-32", None) is False
    fake = tmp_path / "ckpt.pt"
    torch.save({"state_dict": {}, "slipform": {"quick_gelu": True}}, fake)
    with pytest.raises(ValueError, match="trained with quick_gelu=True"):
        load_model(ModelSpec("open_clip", "ViT-B-32", str(fake), quick_gelu=False))
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="bad.pt: cannot read this checkpoint"):
        load_model(ModelSpec("open_clip", "ViT-B-32", str(bad)))


def test_unknown_family():
    with pytest.raises(ValueError, match="unknown model family"):
        ModelSpec("jax")


def test_text_features_do_not_depend_on_padding(tiny):
    """encode_text trims the context after the last end token; features equal the full-context ones."""
    tokens = tiny.tokenize(CAPTIONS)
    with torch.no_grad():
        trimmed = tiny.encode_text(tokens)
        full = torch.nn.functional.normalize(tiny.model.encode_text(tokens), dim=-1)
    torch.testing.assert_close(trimmed, full, atol=1e-6, rtol=1e-5)
