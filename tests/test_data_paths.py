"""Resampled webdataset shards under DDP: every rank (and every loader worker) draws its own
shards, seeded by seed, epoch and rank, so a run is reproducible and no two ranks train on the
same stream."""

import io
import itertools
import json
import tarfile
from collections import Counter

import torch

from slipform.data import ShardDataset

SHARDS = 8


def _png():
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 0, 0)).save(buf, format="PNG")
    return buf.getvalue()


def _one_sample_shards(root):
    """8 shards of one sample each: a drawn sample names the shard it was drawn from."""
    png = _png()
    for s in range(SHARDS):
        with tarfile.open(root / f"shard-{s}.tar", "w") as tar:
            for name, payload in ((f"k{s}.jpg", png), (f"k{s}.json", json.dumps({"caption": f"shard {s}"}).encode())):
                info = tarfile.TarInfo(name)
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
    return [str(root / f"shard-{s}.tar") for s in range(SHARDS)]


def _size(image):
    return torch.tensor(image.size)


def _draws(urls, n=32, seed=0, rank=0, world=2, epoch=0):
    ds = ShardDataset(urls, _size, seed=seed, rank=rank, world=world, resampled=True)
    ds.set_epoch(epoch)
    return [int(x["caption"].split()[1]) for x in itertools.islice(iter(ds), n)]


def test_resampled_ranks_draw_different_shards_seeded_by_rank(tmp_path):
    urls = _one_sample_shards(tmp_path)
    rank0, rank1 = _draws(urls, rank=0), _draws(urls, rank=1)
    assert rank0 == _draws(urls, rank=0) and rank1 == _draws(urls, rank=1)  # reproducible
    # two independent uniform draws over 8 shards agree at ~1/8 of 32 positions; the same stream at all 32
    assert sum(a == b for a, b in zip(rank0, rank1)) < 12
    for draws in (rank0, rank1):  # with replacement, over all the shards, not one rank's share of them
        assert len(set(draws)) >= 6 and max(Counter(draws).values()) < 12
    assert _draws(urls, rank=0, world=4) == rank0  # the world size splits nothing when resampling
    assert _draws(urls, rank=0, seed=1) != rank0
    assert _draws(urls, rank=0, epoch=1) != rank0  # each epoch draws afresh
    assert _draws(urls, rank=1, epoch=1) not in (rank0, rank1, _draws(urls, rank=0, epoch=1))


def test_resampled_loader_workers_draw_different_shards(tmp_path):
    urls = _one_sample_shards(tmp_path)
    ds = ShardDataset(urls, _size, seed=0, rank=1, world=2, resampled=True)
    loader = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=2)
    it = iter(loader)
    seen = [int(next(it)["caption"].split()[1]) for _ in range(40)]
    del it
    by_worker = seen[0::2], seen[1::2]  # the loader takes from its workers in turn
    assert by_worker[0] != by_worker[1]
    assert sum(a == b for a, b in zip(*by_worker)) < 10
    assert by_worker[0] != _draws(urls, rank=1, n=20) or by_worker[1] != _draws(urls, rank=1, n=20)


def test_without_resampling_ranks_split_the_shards(tmp_path):
    urls = _one_sample_shards(tmp_path)
    parts = [sorted(int(x["caption"].split()[1]) for x in ShardDataset(urls, _size, rank=r, world=2)) for r in (0, 1)]
    assert len(parts[0]) == len(parts[1]) == SHARDS // 2
    assert sorted(parts[0] + parts[1]) == list(range(SHARDS))


def test_without_resampling_each_epoch_reshuffles_the_shards_reproducibly(tmp_path):
    urls = _one_sample_shards(tmp_path)

    def order(epoch, seed=0):
        ds = ShardDataset(urls, _size, seed=seed)
        ds.set_epoch(epoch)
        return [int(x["caption"].split()[1]) for x in ds]

    first = order(0)
    assert sorted(first) == list(range(SHARDS)) and first == order(0)
    assert order(1) != first and order(0, seed=1) != first
    assert len({tuple(order(e)) for e in range(4)}) == 4


def test_an_unreadable_image_in_a_shard_is_named_by_shard_and_member(tmp_path):
    shard = tmp_path / "bad.tar"
    with tarfile.open(shard, "w") as tar:
        for name, payload in (("k0.jpg", b"not an image"), ("k0.json", json.dumps({"caption": "a dog"}).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    (item,) = list(ShardDataset([str(shard)], _size))
    assert "skip" in item and item["where"] == f"{shard}: k0.jpg"


def test_each_sample_of_a_shard_draws_its_own_negative(tmp_path):
    png = _png()
    shard = tmp_path / "one.tar"
    with tarfile.open(shard, "w") as tar:
        for i in range(8):
            meta = {"caption": f"caption {i}", "negatives": [{"negative": f"{i} neg {j}"} for j in range(4)]}
            for name, payload in ((f"k{i}.jpg", png), (f"k{i}.json", json.dumps(meta).encode())):
                info = tarfile.TarInfo(name)
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
    drawn = [x["negative"].split()[-1] for x in ShardDataset([str(shard)], _size)]
    assert len(drawn) == 8 and len(set(drawn)) > 1  # all 8 the same position: 4**-7 by chance
    assert drawn == [x["negative"].split()[-1] for x in ShardDataset([str(shard)], _size)]
