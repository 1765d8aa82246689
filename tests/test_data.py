"""Training data: the join with negatives, NegCLIP's TSV, tar shards, masking and skipping."""

import io
import json
import math
import tarfile

import torch

from slipform.data import (
    Collate,
    DataConfig,
    PairDataset,
    ResumableSampler,
    ShardDataset,
    expand_shards,
    read_samples,
)
from slipform.models import ModelSpec, load_model, tiny_open_clip_config

from conftest import FIXTURES, make_pair_data


def _tiny():
    return load_model(ModelSpec("open_clip", "tiny", None, tiny_open_clip_config()))


def test_join_with_negatives_and_masking(tmp_path):
    data = make_pair_data(tmp_path, n=10)
    samples = read_samples(DataConfig(data["train"], data["negatives"], data["image_root"]))
    assert len(samples) == 10
    assert samples[0].negatives[0] == ("a green square", 4.0, None, "A")
    assert samples[9].negatives == ()  # no negative planted: trains masked
    model = _tiny()
    ds = PairDataset(samples, model.preprocess_train, seed=1)
    batch = Collate(model.tokenize)([ds[0], ds[9]])
    assert batch["hard_mask"].tolist() == [[True], [False]]
    assert batch["images"].shape == (2, 3, 32, 32) and batch["hard_tokens"].shape == (2, 1, 32)
    assert batch["concreteness"][0, 0] == 4.0
    assert batch["roles"] == [["A"], [""]]


def test_candidates_for_selection_are_padded_and_masked(tmp_path):
    """For hardest-of-K selection the data hands over up to K negatives per caption, drawn
    without replacement and fixed by (seed, epoch, index), padded with masked empty captions."""
    from slipform.data import Sample

    model = _tiny()
    data = make_pair_data(tmp_path, n=3)
    image = read_samples(DataConfig(data["train"], data["negatives"], data["image_root"]))[0].image
    negs = tuple((f"a {c} square", 3.0 + i, None, "AOR"[i]) for i, c in enumerate(("red", "blue", "green")))
    samples = [Sample(image, "a yellow square", negs), Sample(image, "a yellow square", negs[:1]),
               Sample(image, "a yellow square", ())]
    ds = PairDataset(samples, model.preprocess_train, seed=3, candidates=2)
    items = [ds[i] for i in range(3)]
    assert items[0]["candidates"] == ds[0]["candidates"]  # a pure function of (seed, epoch, index)
    assert len(items[0]["candidates"]) == 2 and len(set(items[0]["candidates"])) == 2
    batch = Collate(model.tokenize, candidates=2)(items)
    assert batch["hard_tokens"].shape == (3, 2, 32)
    assert batch["hard_mask"].tolist() == [[True, True], [True, False], [False, False]]
    assert batch["roles"][1] == ["A", ""] and math.isnan(float(batch["concreteness"][2, 0]))
    picked = {text for text, _, _ in items[0]["candidates"]}
    assert picked <= {n[0] for n in negs}
    draws = set()
    for epoch in range(8):  # each epoch draws its own two of the three
        ds.set_epoch(epoch)
        draws.add(frozenset(t for t, _, _ in ds[0]["candidates"]))
    assert len(draws) > 1 and all(len(d) == 2 for d in draws)


def test_samples_are_a_function_of_seed_epoch_and_index(tmp_path):
    data = make_pair_data(tmp_path, n=6)
    samples = read_samples(DataConfig(data["train"], data["negatives"], data["image_root"]))
    model = _tiny()
    a, b = PairDataset(samples, model.preprocess_train, 3), PairDataset(samples, model.preprocess_train, 3)
    torch.manual_seed(123)  # global RNG state must not matter
    x = a[2]["pixels"]
    torch.manual_seed(999)
    assert torch.equal(x, b[2]["pixels"])
    b.set_epoch(1)
    assert not torch.equal(x, b[2]["pixels"])


def test_missing_and_corrupt_images_are_skipped_and_counted(tmp_path):
    data = make_pair_data(tmp_path, n=8, corrupt=2, missing=1)
    model = _tiny()
    ds = PairDataset(read_samples(DataConfig(data["train"], data["negatives"], data["image_root"])),
                     model.preprocess_train)
    batch = Collate(model.tokenize)([ds[i] for i in range(8)])
    assert batch["skipped"] == 3 and batch["size"] == 5


def test_negclip_tsv_real_file(tmp_path):
    tsv = FIXTURES / "negclip" / "valid_neg_clip.tsv"
    samples = read_samples(DataConfig(str(tsv), image_root="/data"))
    assert len(samples) == 4839  # indices 0..4838; one caption holds a quoted newline, so 4,848 lines
    first = samples[0]
    assert first.caption == "A child holding a flowered umbrella and petting a yak."
    assert first.image == "/data/coco/val2014/COCO_val2014_000000184613.jpg"
    assert first.negatives[0][0] == "A umbrella holding a flowered child and petting a yak ."
    assert math.isnan(first.negatives[0][1]) and first.negatives[0][2] is None
    assert len(first.negatives) == 2


def _png(colour):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (36, 36), colour).save(buf, format="PNG")
    return buf.getvalue()


def test_tar_shards(tmp_path):
    for s in range(2):
        with tarfile.open(tmp_path / f"shard-{s:02d}.tar", "w") as tar:
            for i in range(3):
                key = f"s{s}_{i}"
                meta = {"caption": f"a red square {s}{i}",
                        "negatives": [{"negative": "a blue square", "concreteness": 4.2}]}
                for name, payload in ((f"{key}.jpg", _png((200, 0, 0))), (f"{key}.json", json.dumps(meta).encode())):
                    info = tarfile.TarInfo(name)
                    info.size = len(payload)
                    tar.addfile(info, io.BytesIO(payload))
            bad = tarfile.TarInfo("broken.jpg")
            bad.size = 3
            tar.addfile(bad, io.BytesIO(b"xyz"))
    shards = expand_shards(str(tmp_path / "shard-{00..01}.tar"))
    assert [p.rsplit("/", 1)[1] for p in shards] == ["shard-00.tar", "shard-01.tar"]
    model = _tiny()
    items = list(ShardDataset(shards, model.preprocess_train))
    assert len(items) == 6 and {x["negative"] for x in items} == {"a blue square"}
    rank0 = list(ShardDataset(shards, model.preprocess_train, rank=0, world=2))
    rank1 = list(ShardDataset(shards, model.preprocess_train, rank=1, world=2))
    assert len(rank0) == len(rank1) == 3
    assert {x["caption"] for x in rank0}.isdisjoint({x["caption"] for x in rank1})


def _write_shards(root, n_shards=4, per_shard=5):
    for s in range(n_shards):
        with tarfile.open(root / f"part-{s:03d}.tar", "w") as tar:
            for i in range(per_shard):
                meta = {"caption": f"sample {s}-{i}", "negatives": []}
                for name, payload in ((f"{s}_{i}.jpg", _png((s * 40, i * 40, 0))), (f"{s}_{i}.json",
                                                                                     json.dumps(meta).encode())):
                    info = tarfile.TarInfo(name)
                    info.size = len(payload)
                    tar.addfile(info, io.BytesIO(payload))
    return str(root / f"part-{{000..{n_shards - 1:03d}}}.tar")


def _image_size(image):
    return torch.tensor(image.size)


def _captions_seen(rank, world, spec, out):
    """One rank of a real gloo group: every caption its 2 loader workers yield, per epoch."""
    import torch.distributed as dist

    dist.init_process_group("gloo", rank=rank, world_size=world)
    ds = ShardDataset(spec, _image_size, seed=3, rank=dist.get_rank(), world=dist.get_world_size())
    epochs = []
    for epoch in (0, 1):
        ds.set_epoch(epoch)
        loader = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=2)
        caps = [item["caption"] for item in loader]
        gathered = [None] * world
        dist.all_gather_object(gathered, caps)
        epochs.append(gathered)
    if rank == 0:
        out.put(epochs)
    dist.destroy_process_group()


def test_webdataset_shards_split_over_two_processes_and_their_workers(tmp_path):
    import os
    import socket

    import torch.multiprocessing as mp

    spec = _write_shards(tmp_path)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(sock.getsockname()[1]))
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_captions_seen, args=(r, 2, spec, out)) for r in range(2)]
    for p in procs:
        p.start()
    epochs = out.get(timeout=120)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    for epoch, per_rank in enumerate(epochs):
        seen = [c for caps in per_rank for c in caps]
        # every sample once per epoch across 2 ranks x 2 workers, and each rank gets a share
        assert sorted(seen) == sorted(f"sample {s}-{i}" for s in range(4) for i in range(5))
        assert all(len(caps) == 10 for caps in per_rank)
        if epoch == 0:
            first = per_rank
    assert per_rank != first  # shards are reshuffled per epoch (seeded)


def test_webdataset_urls_pipe_and_resampling(tmp_path):
    model = _tiny()
    spec = _write_shards(tmp_path, n_shards=2, per_shard=3)
    assert len(expand_shards(spec)) == 2 and expand_shards("a.tar::b.tar") == ["a.tar", "b.tar"]
    assert expand_shards("x-{a,b}.tar,y.tar") == ["x-a.tar", "x-b.tar", "y.tar"]
    piped = [f"pipe:cat {u}" for u in expand_shards(spec)]
    caps = sorted(x["caption"] for x in ShardDataset(piped, model.preprocess_train))
    assert caps == sorted(f"sample {s}-{i}" for s in range(2) for i in range(3))
    stream = iter(ShardDataset(spec, model.preprocess_train, resampled=True))
    drawn = [next(stream)["caption"] for _ in range(20)]  # endless: more than the 6 samples
    assert len(drawn) == 20 and set(drawn) <= set(caps)


def test_resumable_sampler():
    s = ResumableSampler(20, 4, seed=0, rank=0, world=2)
    assert s.batches_per_epoch == 2
    full = list(s)
    s.set_epoch(0, start_batch=1)
    assert list(s) == full[4:]
    other = ResumableSampler(20, 4, seed=0, rank=1, world=2)
    assert set(full).isdisjoint(list(other))
    s.set_epoch(1)
    assert list(s) != full


def test_image_negatives_pair_with_their_negative_caption(tmp_path):
    data = make_pair_data(tmp_path, n=8)
    lines = [json.loads(x) for x in open(data["negatives"])]
    for rec in lines:  # the "edited" image of a negative: here the next colour's image
        rec["negative_image"] = f"images/{(int(rec['id']) + 1) % 8:03d}.png"
    with open(data["negatives"], "w") as f:
        f.write("".join(json.dumps(r) + "\n" for r in lines))
    model = _tiny()
    samples = read_samples(DataConfig(data["train"], data["negatives"], data["image_root"], image_negatives=True))
    assert samples[0].negatives[0][2].endswith("images/001.png")
    ds = PairDataset(samples, model.preprocess, image_negatives=True)
    item = ds[0]
    assert torch.equal(item["neg_pixels"], ds[1]["pixels"])
    batch = Collate(model.tokenize)([ds[0], ds[7]])
    assert batch["neg_image_mask"].tolist() == [True, False]  # caption 7 has no negative
