"""A Hugging Face SiglipModel through the hf family: loaded by its config's model_type, its own
logit scale and bias exposed, fine-tuned with the sigmoid loss and negatives, exported back.
The model is tiny and random, written by the test (no download); its tokenizer is CLIP's BPE."""

import json
import math

import pytest
import torch

from slipform.models import ModelSpec, _hf_tokenizer_files, export_hf, load_model
from slipform.train import Trainer
from test_train_losses import _config, _data

transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny_siglip(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tiny-siglip")
    torch.manual_seed(0)
    ids = dict(bos_token_id=49406, eos_token_id=49407, pad_token_id=49407)
    config = transformers.SiglipConfig(
        text_config=dict(vocab_size=49408, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, max_position_embeddings=16, **ids),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                           image_size=32, patch_size=8))
    model = transformers.SiglipModel(config)
    with torch.no_grad():  # SigLIP's initialisation (Zhai et al. 2023): t = 10, b = -10
        model.logit_scale.fill_(math.log(10))
        model.logit_bias.fill_(-10.0)
    model.save_pretrained(directory)
    _hf_tokenizer_files(directory)
    transformers.CLIPTokenizer(str(directory / "vocab.json"), str(directory / "merges.txt"),
                               model_max_length=16).save_pretrained(directory)
    transformers.SiglipImageProcessor(size={"height": 32, "width": 32}).save_pretrained(directory)
    return directory


def test_a_siglip_directory_loads_as_siglip_with_its_scale_and_bias(tiny_siglip):
    model = load_model(ModelSpec("hf", str(tiny_siglip))).eval()
    assert isinstance(model.model, transformers.SiglipModel) and model.meta["model_type"] == "siglip"
    assert model.logit_bias is model.model.logit_bias and model.logit_bias.item() == pytest.approx(-10.0)
    assert model.logit_scale.shape == () and model.logit_scale.item() == pytest.approx(10.0)
    tokens = model.tokenize(["a red cube on a table", "two dogs"])
    assert tokens.shape == (2, 16)
    with torch.no_grad():  # bidirectional, last-token pooled: the full padded tokens, not cut after the end token
        want = model.model.get_text_features(input_ids=tokens)
        want = want if isinstance(want, torch.Tensor) else want.pooler_output
        torch.testing.assert_close(model.encode_text(tokens), torch.nn.functional.normalize(want, dim=-1))
        img = model.encode_image(torch.randn(2, 3, 32, 32))
    assert torch.allclose(img.norm(dim=-1), torch.ones(2))
    assert model.meta["mean"] == [0.5, 0.5, 0.5]


def test_other_hf_model_types_are_refused(tmp_path):
    transformers.BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                            intermediate_size=64).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="model type 'bert' is not supported"):
        load_model(ModelSpec("hf", str(tmp_path)))


def test_a_tiny_hf_siglip_fine_tunes_with_negatives_and_exports(tiny_siglip, tmp_path):
    data = _data(tmp_path, n=16)
    spec = ModelSpec("hf", str(tiny_siglip), None)
    trainer = Trainer(_config(tmp_path, data, "siglip", model=spec, epochs=4, batch_size=8))
    bias = trainer.model.logit_bias
    trainer.fit()
    assert trainer.model.logit_bias is bias and bias.item() != -10.0  # its own bias, learned (none was added)
    rows = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert len(rows) == 8 and all(r["loss_negatives"] > 0 for r in rows)
    assert sum(r["loss"] for r in rows[-3:]) < sum(r["loss"] for r in rows[:3])
    export_hf(trainer.model, tmp_path / "hf")
    again = transformers.SiglipModel.from_pretrained(tmp_path / "hf")
    assert again.logit_bias.item() == pytest.approx(bias.item())
    reloaded = load_model(ModelSpec("hf", str(tmp_path / "hf")))
    assert reloaded.meta["model_type"] == "siglip"
