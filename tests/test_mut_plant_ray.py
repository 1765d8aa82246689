"""The Ray engine's driver (plant/engine/ray_engine.py) in this process, through a stand-in for the
``ray`` module (issue 31): the real Ray tests start actors and are marked slow, so no mutation run
reached the driver's bookkeeping. The stand-in runs each actor's method at once, in this process,
with the real :class:`ShardWorker`; the reference is what one process writes (``engine="local"``)."""

import json
import os
import sys
from types import ModuleType

import pytest

from slipform.plant import PlantConfig, plant_file
from slipform.plant.engine import ray_engine
from slipform.text.io import BAD_INPUT_KINDS


class _Ref:
    def __init__(self, value=None, error=None):
        self.value, self.error = value, error


class _Method:
    def __init__(self, ray, obj, name):
        self.ray, self.obj, self.name = ray, obj, name

    def remote(self, *args):
        self.ray.calls.append((type(self.obj).__name__, self.name, args))
        if self.name in self.ray.fail:
            return _Ref(error=self.ray.exceptions.RayError(f"{self.name} died"))
        return _Ref(getattr(self.obj, self.name)(*args))


class _Handle:
    def __init__(self, ray, obj):
        self._ray, self._obj = ray, obj

    def __getattr__(self, name):
        return _Method(self._ray, self._obj, name)


class FakeRay(ModuleType):
    """What plant_ray and _run use of ``ray``, run eagerly in this process."""

    def __init__(self, cpus=2, fail=()):
        super().__init__("ray")
        self.cpus, self.fail = cpus, set(fail)
        self.exceptions = ModuleType("ray.exceptions")
        self.exceptions.RayError = type("RayError", (Exception,), {})
        self.inits, self.shutdowns, self.killed, self.calls, self.options, self.up = [], 0, [], [], [], False

    def is_initialized(self):
        return self.up

    def init(self, **kwargs):
        self.inits.append(kwargs)
        self.up = True

    def shutdown(self):
        self.shutdowns += 1
        self.up = False

    def cluster_resources(self):
        return {"CPU": float(self.cpus)}

    def put(self, value):
        return value

    def remote(self, **options):
        self.options.append(options)
        ray = self

        def wrap(cls):
            class Actor:
                @staticmethod
                def remote(*args):
                    return _Handle(ray, cls(*args))
            return Actor
        return wrap

    def get(self, ref):
        if isinstance(ref, list):
            return [self.get(r) for r in ref]
        if ref.error is not None:
            raise ref.error
        return ref.value

    def wait(self, refs, num_returns=1, timeout=None):
        return refs[:num_returns], refs[num_returns:]

    def kill(self, actor):
        self.killed.append(type(actor._obj).__name__)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, real_captions):
    rows = [json.dumps({"id": f"c{i}", "caption": c}) for i, c in enumerate(real_captions[:24])]
    rows[5] = '{"id": "broken", "caption": "A cat'
    rows[14] = '{"id": "bad2", "caption": '
    rows[20] = json.dumps({"id": "empty", "caption": " "})
    path = tmp_path_factory.mktemp("ray") / "captions.jsonl"
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def one_process(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("single") / "neg.jsonl"
    logs = []
    summary = plant_file(corpus, out, PlantConfig(), progress=False, log=logs.append, chunk_size=4)
    return out, summary, logs


def _ray(monkeypatch, **kwargs):
    fake = FakeRay(**kwargs)
    monkeypatch.setitem(sys.modules, "ray", fake)
    return fake


def test_ray_writes_what_one_process_writes(monkeypatch, corpus, one_process, tmp_path):
    single, expected, single_logs = one_process
    fake = _ray(monkeypatch)
    logs = []
    out = tmp_path / "ray" / "neg.jsonl"
    summary = plant_file(corpus, out, PlantConfig(), engine="ray", workers=3, num_shards=4, chunk_size=4,
                         progress=False, log=logs.append, max_messages=1, ray_address="auto")
    assert out.read_bytes() == single.read_bytes()
    assert out.with_name("neg.skipped.jsonl").read_bytes() == single.with_name("neg.skipped.jsonl").read_bytes()
    got = summary.as_dict()
    assert {k: got[k] for k in ("read", "planted", "negatives", "resumed", "skipped", "rejected")} == \
        {k: expected.as_dict()[k] for k in ("read", "planted", "negatives", "resumed", "skipped", "rejected")}
    assert summary.output == str(out) and summary.seconds >= summary.startup_seconds > 0
    # one warning shown (the first bad line, as one process shows it), the other counted once
    assert logs == [single_logs[0], f"warning: 1 more input problems not shown; see {out.with_name('neg.skipped.jsonl')}"]
    assert fake.inits == [{"address": "auto", "include_dashboard": False, "log_to_driver": False}]
    assert fake.shutdowns == 1 and not fake.up
    assert fake.options == [{"num_cpus": 1, "max_restarts": 3, "max_task_retries": 3}]  # no counter without a bar
    assert sorted(fake.killed) == ["ShardWorker"] * 3  # min(--workers, shards) actors, each killed at the end
    planted = [args[3].index for cls, name, args in fake.calls if name == "plant"]
    assert sorted(planted) == [0, 1, 2, 3] and all(args[5] == 4 for _, name, args in fake.calls if name == "plant")
    folder = out.with_name("neg.jsonl.shards")
    plan = json.loads((folder / "plan.json").read_text())
    assert plan["num_shards"] == 4 and set(plan["key"]) == {"input", "config"}
    assert sorted(p.name for p in folder.glob("*.done")) == [f"part-0000{i}-of-00004.done" for i in range(4)]
    assert not list(folder.glob("*.tmp"))


def test_a_rerun_plants_only_the_unfinished_shards_and_counts_the_rest_as_resumed(monkeypatch, corpus, one_process,
                                                                                 tmp_path):
    single, expected, _ = one_process
    out = tmp_path / "ray" / "neg.jsonl"
    _ray(monkeypatch)
    plant_file(corpus, out, PlantConfig(), engine="ray", workers=1, num_shards=4, chunk_size=4, progress=False,
               log=lambda m: None)
    folder = out.with_name("neg.jsonl.shards")
    kept = json.loads((folder / "part-00000-of-00004.done").read_text())
    (folder / "part-00002-of-00004.done").unlink()
    (folder / "part-00001-of-00004.jsonl.dead.tmp").write_text("half")  # an attempt that died
    fake = _ray(monkeypatch, cpus=5)
    again = plant_file(corpus, out, PlantConfig(), engine="ray", chunk_size=4, progress=False, log=lambda m: None)
    assert [args[3].index for _, name, args in fake.calls if name == "plant"] == [2]
    assert sorted(fake.killed) == ["ShardWorker"]  # one shard to do: one actor, though 5 CPUs
    assert out.read_bytes() == single.read_bytes() and not list(folder.glob("*.tmp"))
    done = [json.loads((folder / f"part-0000{i}-of-00004.done").read_text()) for i in (0, 1, 3)]
    bad = [sum(n for r, n in d["skipped"].items() if r in BAD_INPUT_KINDS) for d in done]
    assert kept == done[0]
    assert again.resumed == sum(d["read"] for d in done) - sum(bad) and again.resumed > 0
    assert again.read == again.resumed + json.loads((folder / "part-00002-of-00004.done").read_text())["read"]
    assert again.planted < expected.planted


def test_a_rerun_with_other_settings_or_shards_is_refused(monkeypatch, corpus, tmp_path):
    out = tmp_path / "neg.jsonl"
    _ray(monkeypatch)
    plant_file(corpus, out, PlantConfig(), engine="ray", workers=1, num_shards=2, progress=False, log=lambda m: None)
    folder = out.with_name("neg.jsonl.shards")
    for kwargs in ({"config": PlantConfig(seed=1), "num_shards": 2}, {"config": PlantConfig(), "num_shards": 3}):
        fake = _ray(monkeypatch)
        with pytest.raises(ValueError) as err:
            plant_file(corpus, out, kwargs["config"], engine="ray", num_shards=kwargs["num_shards"], progress=False)
        assert str(err.value) == (f"{folder} holds shards of another input, other settings or another --num-shards "
                                  "(2); delete it or choose another output")
        assert not fake.inits  # before any work
    fake = _ray(monkeypatch)
    plant_file(corpus, out, PlantConfig(), engine="ray", progress=False, log=lambda m: None)  # the plan's count
    assert not [c for c in fake.calls if c[1] == "plant"] and json.loads((folder / "plan.json").read_text())[
        "num_shards"] == 2


def test_without_a_shard_count_a_small_input_gets_the_default_eight(monkeypatch, corpus, tmp_path):
    fake = _ray(monkeypatch, cpus=1)
    plant_file(corpus, tmp_path / "n.jsonl", PlantConfig(), engine="ray", progress=False, log=lambda m: None)
    assert sorted(args[3].index for _, name, args in fake.calls if name == "plant") == list(range(8))
    assert fake.killed == ["ShardWorker"]  # one actor per CPU of the cluster
    assert ray_engine.DEFAULT_SHARDS == 8 and ray_engine.SHARD_BYTES == 64 << 20


def test_a_shard_that_fails_its_retries_stops_the_run_and_ray_is_shut_down(monkeypatch, corpus, tmp_path):
    fake = _ray(monkeypatch, fail={"plant"})
    with pytest.raises(RuntimeError, match=r"^shard part-00000-of-00002 failed after 3 retries: plant died$"):
        plant_file(corpus, tmp_path / "n.jsonl", PlantConfig(), engine="ray", workers=1, num_shards=2,
                   progress=False, log=lambda m: None)
    assert fake.shutdowns == 1 and fake.killed == ["ShardWorker"]


def test_a_session_already_started_is_left_running(monkeypatch, corpus, tmp_path):
    fake = _ray(monkeypatch)
    fake.up = True
    plant_file(corpus, tmp_path / "n.jsonl", PlantConfig(), engine="ray", workers=1, num_shards=2, progress=False,
               log=lambda m: None)
    assert not fake.inits and not fake.shutdowns and fake.up


def test_the_bar_counts_every_caption_and_the_actors_are_announced(monkeypatch, corpus, tmp_path, capsys):
    fake = _ray(monkeypatch)
    logs = []
    summary = plant_file(corpus, tmp_path / "n.jsonl", PlantConfig(), engine="ray", workers=2, num_shards=3,
                         chunk_size=4, progress=True, log=logs.append)
    assert logs[0].startswith("ray: 2 actors loaded in ") and logs[0].endswith(" MB resident each at most")
    assert fake.options[-1] == {"num_cpus": 0} and sorted(fake.killed) == ["Counter", "ShardWorker", "ShardWorker"]
    assert f"| {summary.read}/{summary.read} " in capsys.readouterr().err.split("\r")[-1]
    counts = [args for cls, name, args in fake.calls if cls == "Counter" and name == "set"]
    assert {i for i, _ in counts} == {0, 1, 2}


def test_without_ray_the_engine_says_what_to_install(monkeypatch, corpus, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(RuntimeError, match=r"the ray engine needs Ray: pip install 'slipform\[ray\]'"):
        plant_file(corpus, tmp_path / "n.jsonl", PlantConfig(), engine="ray", progress=False)


def test_the_actor_reports_its_process_and_memory():
    worker = object.__new__(ray_engine.ShardWorker)
    up = worker.ready()
    assert up["pid"] == os.getpid() and 1 < up["rss_mb"] < 1 << 20


def test_fault_injection_only_on_the_first_attempt_at_its_shard(monkeypatch, tmp_path):
    from slipform.plant.engine.source import Shard

    class Died(Exception):
        pass

    def exit_(code):
        raise Died(code)

    monkeypatch.setattr(os, "_exit", exit_)  # the actor's death, as an exception here
    shard = Shard(1, 2, 0, 10, 1, 3)
    flag = tmp_path / "died"
    monkeypatch.delenv(ray_engine.FAULT_ENV, raising=False)
    ray_engine._maybe_die(shard, 0)  # not asked for
    monkeypatch.setenv(ray_engine.FAULT_ENV, f"1:{flag}")
    ray_engine._maybe_die(shard, 1)  # after its second chunk: no
    ray_engine._maybe_die(Shard(0, 2, 0, 10, 1, 3), 0)  # another shard: no
    assert not flag.exists()
    with pytest.raises(Died) as died:
        ray_engine._maybe_die(shard, 0)  # the first attempt, after its first chunk
    assert died.value.args == (1,) and flag.read_text() == "died"
    ray_engine._maybe_die(shard, 0)  # a retry: the flag says the first attempt died


def test_shard_files_on_ray_are_what_one_process_writes(monkeypatch, tmp_path, real_captions):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    paths = []
    for f in range(3):
        rows = real_captions[f * 4:f * 4 + 4]
        path = tmp_path / f"{f:05d}.parquet"
        pq.write_table(pa.table({"key": [f"{f}{i:04d}" for i in range(4)], "caption": rows}), path)
        paths.append(str(path))
    plant_file(paths, tmp_path / "local", PlantConfig(), chunk_size=2, progress=False, log=lambda m: None)
    fake = _ray(monkeypatch)
    logs = []
    summary = plant_file(paths, tmp_path / "ray", PlantConfig(), engine="ray", workers=2, chunk_size=2, progress=True,
                         log=logs.append, ray_address="ray://head:10001")
    assert fake.inits == [{"address": "ray://head:10001", "include_dashboard": False, "log_to_driver": False}]
    local = {p.name: p.read_bytes() for p in (tmp_path / "local").glob("*.jsonl")}
    assert local and {p.name: p.read_bytes() for p in (tmp_path / "ray").glob("*.jsonl")} == local
    assert summary.read == 12 and [c[2][4] for c in fake.calls if c[1] == "plant_file"] == [2, 2, 2]
    assert logs[0].startswith("ray: 2 actors loaded in ") and fake.shutdowns == 1
    again = _ray(monkeypatch)  # a rerun: every file done, Ray not even started
    plant_file(paths, tmp_path / "ray", PlantConfig(), engine="ray", progress=False, log=lambda m: None)
    assert not again.inits and not again.calls


def test_tars_planted_on_ray_copy_their_members_as_one_process_does(monkeypatch, tmp_path, real_captions):
    import io
    import tarfile

    for f in range(2):
        with tarfile.open(tmp_path / f"{f:05d}.tar", "w") as tar:
            for i in range(3):
                key = f"{f}{i:04d}"
                for name, data in ((f"{key}.txt", real_captions[f * 3 + i].encode()),
                                   (f"{key}.json", json.dumps({"key": key}).encode())):
                    info = tarfile.TarInfo(name)
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
    spec = str(tmp_path / "{00000..00001}.tar")
    plant_file(spec, tmp_path / "local", PlantConfig(), output_format="wds", chunk_size=2, progress=False,
               log=lambda m: None)
    _ray(monkeypatch)
    plant_file(spec, tmp_path / "ray", PlantConfig(), engine="ray", output_format="wds", workers=2, chunk_size=2,
               progress=False, log=lambda m: None)
    local = {p.name: p.read_bytes() for p in (tmp_path / "local").iterdir() if p.suffix in (".tar", ".jsonl")}
    assert sorted(local) == ["00000.jsonl", "00000.skipped.jsonl", "00000.tar", "00001.jsonl", "00001.skipped.jsonl",
                             "00001.tar"]
    assert {p.name: p.read_bytes() for p in (tmp_path / "ray").iterdir() if p.suffix in (".tar", ".jsonl")} == local
    with tarfile.open(tmp_path / "ray" / "00001.tar") as tar:
        planted = [json.loads(tar.extractfile(m).read()) for m in tar if m.name.endswith(".json")]
    assert len(planted) == 3 and sum("negatives" in m for m in planted) >= 2


def test_without_workers_there_is_one_actor_per_cpu_of_the_cluster(monkeypatch, corpus, tmp_path):
    fake = _ray(monkeypatch, cpus=3)
    plant_file(corpus, tmp_path / "n.jsonl", PlantConfig(), engine="ray", num_shards=4, progress=False,
               log=lambda m: None)
    assert fake.killed == ["ShardWorker"] * 3


def test_the_ray_engines_read_the_input_in_the_format_given(monkeypatch, corpus, one_process, tmp_path):
    import io
    import tarfile

    odd = tmp_path / "captions.lines"  # a suffix no format is known by
    odd.write_bytes(corpus.read_bytes())
    _ray(monkeypatch)
    summary = plant_file(odd, tmp_path / "n.jsonl", PlantConfig(), fmt="jsonl", engine="ray", workers=1, num_shards=2,
                         progress=False, log=lambda m: None)
    assert (summary.read, summary.negatives) == (one_process[1].read, one_process[1].negatives)
    src = tmp_path / "samples.archive"  # a tar by another name, with three samples missing their caption
    with tarfile.open(src, "w") as tar:
        for name, data in (("k0.jpg", b"x"), ("k1.jpg", b"x"), ("k2.jpg", b"x"), ("k3.txt", b"A dog on a beach.")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    logs = []
    summary = plant_file([str(src)], tmp_path / "tars", PlantConfig(), fmt="wds", engine="ray", workers=1,
                         progress=False, max_messages=1, log=logs.append)
    assert summary.skipped["sample without caption"] == 3 and summary.read == 4
    warnings = [m for m in logs if m.startswith("warning:")]
    assert len(warnings) == 2 and warnings[1].startswith("warning: 2 more input problems not shown; see ")
