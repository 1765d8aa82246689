"""FSC-CLIP's local token-patch hard-negative loss: the towers' token and patch features (open_clip
ViT and ModifiedResNet, Hugging Face CLIP), the loss against a loop reference, 2 gloo processes
against one, and the trainer (resume, a tiny run whose loss falls)."""

import pytest
import torch
import torch.nn.functional as F

from slipform.experiment.config import ProtocolConfig
from slipform.models import ModelSpec, export_hf, load_model, tiny_open_clip_config

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
