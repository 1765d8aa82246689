"""The diffusion editor's plumbing, with a tiny randomly initialised Stable Diffusion pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

diffusers = pytest.importorskip("diffusers")
transformers = pytest.importorskip("transformers")

from slipform.world import DiffusionEditor, sample_scene  # noqa: E402
from slipform.world.render import render  # noqa: E402


@pytest.fixture(scope="module")
def tiny_pipe(tmp_path_factory):
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerAncestralDiscreteScheduler,
        StableDiffusionImg2ImgPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    from slipform.models import _hf_tokenizer_files

    torch.manual_seed(0)
    unet = UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=1, sample_size=16, in_channels=4,
                                out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32)
    vae = AutoencoderKL(block_out_channels=(32, 64), in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2)
    text = CLIPTextModel(CLIPTextConfig(hidden_size=32, intermediate_size=37, num_attention_heads=4,
                                        num_hidden_layers=2, vocab_size=49408, max_position_embeddings=77,
                                        bos_token_id=49406, eos_token_id=49407, pad_token_id=0))
    tok_dir = tmp_path_factory.mktemp("tok")
    _hf_tokenizer_files(tok_dir)
    tokenizer = CLIPTokenizer(str(tok_dir / "vocab.json"), str(tok_dir / "merges.txt"), model_max_length=77)
    pipe = StableDiffusionImg2ImgPipeline(vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet,
                                          scheduler=EulerAncestralDiscreteScheduler(steps_offset=1), safety_checker=None,
                                          feature_extractor=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_diffusion_editor_edits_with_the_negative_prompt(tiny_pipe):
    image = render(sample_scene(3))
    editor = DiffusionEditor(tiny_pipe, strength=0.5, steps=2, size=32, seed=1)
    a = editor.edit(image, "a red circle above a blue square.", "a red circle below a blue square.")
    b = editor.edit(image, "a red circle above a blue square.", "a red circle below a blue square.")
    c = editor.edit(image, "a red circle above a blue square.", "a green star left of a white heart.")
    assert isinstance(a, Image.Image) and a.size == image.size
    assert np.array_equal(np.asarray(a), np.asarray(b))  # seeded: the same edit twice
    assert not np.array_equal(np.asarray(a), np.asarray(c))  # the prompt steers the edit
    assert not np.array_equal(np.asarray(a), np.asarray(image.convert("RGB")))


def test_diffusion_editor_needs_at_least_one_denoising_step(tiny_pipe):
    with pytest.raises(ValueError, match="steps"):
        DiffusionEditor(tiny_pipe, strength=0.3, steps=2)
