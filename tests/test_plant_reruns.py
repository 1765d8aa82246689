"""Rerunning ``slipform plant`` into an output that exists: the same run resumes; a changed input,
changed options or another shard is refused with a clear message and the output is left as it
was, on the local engine and on Ray. And the repair of a half-written last line."""

import json
import os
import re

import pytest

from slipform.plant import PlantConfig, plant_file
from slipform.plant.engine.sink import AppendSink, repair_and_read_ids

from conftest import read_jsonl


@pytest.fixture
def captions(tmp_path, real_captions):
    path = tmp_path / "captions.txt"
    path.write_text("\n".join(real_captions[:24]) + "\n")
    return path


def _plant(captions, out, config=PlantConfig(), **kw):
    return plant_file(captions, out, config, progress=False, log=lambda msg: None, **kw)


def _state(out):
    return {p.name: p.read_bytes() for p in out.parent.glob(out.name + "*") if p.is_file()}


def test_a_rerun_with_other_options_is_refused_and_leaves_the_output(tmp_path, captions):
    out = tmp_path / "neg.jsonl"
    first = _plant(captions, out)
    assert first.planted > 10 and (tmp_path / "neg.jsonl.plan.json").exists()
    before = _state(out)
    for config in (PlantConfig(seed=1), PlantConfig(k=2), PlantConfig(strategy="random")):
        with pytest.raises(ValueError) as err:
            _plant(captions, out, config)
        msg = str(err.value)
        assert msg.startswith(f"{out} was planted from other planting settings;") and "neg.skipped.jsonl" in msg
        assert _state(out) == before
    again = _plant(captions, out)  # the same options: resumed, nothing planted twice
    assert again.negatives == 0 and again.resumed == first.read and _state(out) == before


def test_a_rerun_after_the_input_changed_is_refused(tmp_path, captions, real_captions):
    out = tmp_path / "neg.jsonl"
    _plant(captions, out)
    before = _state(out)
    with open(captions, "a") as f:
        f.write(real_captions[30] + "\n")
    with pytest.raises(ValueError, match=r"another input file \(its path, size or modification time differ\)"):
        _plant(captions, out)
    other = tmp_path / "other.txt"
    other.write_bytes(captions.read_bytes())
    with pytest.raises(ValueError, match="another input file"):
        _plant(other, out)
    with pytest.raises(ValueError, match=r"another input file \(.*\) and other planting settings;"):
        _plant(other, out, PlantConfig(seed=4))
    assert _state(out) == before


def test_a_shards_output_is_not_resumed_as_another_shard(tmp_path, captions):
    out = tmp_path / "part.jsonl"
    _plant(captions, out, num_shards=2, shard_id=0)
    with pytest.raises(ValueError, match="another shard"):
        _plant(captions, out, num_shards=2, shard_id=1)
    with pytest.raises(ValueError, match="another shard"):
        _plant(captions, out)  # the whole file into one shard's output
    assert _plant(captions, out, num_shards=2, shard_id=0).negatives == 0


def test_a_deleted_output_starts_afresh_with_new_options(tmp_path, captions):
    out = tmp_path / "neg.jsonl"
    _plant(captions, out)
    for p in (out, tmp_path / "neg.skipped.jsonl"):
        p.unlink()
    assert _plant(captions, out, PlantConfig(seed=2)).planted > 10  # the plan alone holds nothing to mix
    with pytest.raises(ValueError, match="other planting settings"):
        _plant(captions, out)


def test_an_output_from_before_plans_were_kept_resumes(tmp_path, captions):
    out = tmp_path / "neg.jsonl"
    first = _plant(captions, out)
    (tmp_path / "neg.jsonl.plan.json").unlink()
    assert _plant(captions, out).resumed == first.read


# --------------------------------------------------------------------------- Ray: the check before any actor

class _NoCluster(Exception):
    pass


@pytest.fixture
def no_cluster(monkeypatch):
    """Ray's start refused: a run gets exactly as far as its checks of the shard folder."""
    ray = pytest.importorskip("ray")

    def refuse(*a, **k):
        raise _NoCluster

    monkeypatch.setattr(ray, "init", refuse)
    monkeypatch.setattr(ray, "is_initialized", lambda: False)


def test_a_ray_rerun_with_other_options_or_input_is_refused_before_any_work(tmp_path, captions, no_cluster):
    out = tmp_path / "ray.jsonl"
    with pytest.raises(_NoCluster):  # the first run writes its plan, then would start Ray
        _plant(captions, out, engine="ray", num_shards=3)
    plan = (tmp_path / "ray.jsonl.shards" / "plan.json").read_text()
    with pytest.raises(_NoCluster):  # the same run again passes the check
        _plant(captions, out, engine="ray")
    for kw in ({"config": PlantConfig(k=2)}, {"num_shards": 4}):
        with pytest.raises(ValueError, match="holds shards of another input, other settings or another "
                                             r"--num-shards \(3\); delete it or choose another output"):
            _plant(captions, out, engine="ray", **kw)
    os.utime(captions, ns=(1, 1))  # the input rewritten (its time), then grown
    with pytest.raises(ValueError, match="holds shards of another input"):
        _plant(captions, out, engine="ray")
    assert (tmp_path / "ray.jsonl.shards" / "plan.json").read_text() == plan  # a refused run changes nothing


@pytest.mark.slow  # a local Ray cluster and two actors that load spaCy: ~40 s on the shared machine
def test_a_real_ray_rerun_after_the_input_changed_is_refused(tmp_path, captions, real_captions):
    ray = pytest.importorskip("ray")
    out = tmp_path / "ray.jsonl"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        first = _plant(captions, out, engine="ray", num_shards=2, workers=2)
        before = out.read_bytes()
        again = _plant(captions, out, engine="ray")
        assert again.resumed == first.read and out.read_bytes() == before
        with open(captions, "a") as f:
            f.write(real_captions[40] + "\n")
        with pytest.raises(ValueError, match="holds shards of another input"):
            _plant(captions, out, engine="ray")
        assert out.read_bytes() == before
    finally:
        ray.shutdown()


# --------------------------------------------------------------------------- a half-written last line

@pytest.mark.parametrize("tail", [b'{"id": "c9", "negat', b'{"id": "c9"}', b"{", b'{"id": "c9", "negative": "x"}\r'])
def test_a_partial_last_line_is_cut_and_its_caption_planted_again(tmp_path, tail):
    """A kill mid-``write`` leaves any prefix of the chunk's last line: even one that parses as
    JSON has no newline yet, so it is cut and the caption counts as not done."""
    path = tmp_path / "neg.jsonl"
    whole = b'{"id": "c1", "negative": "a"}\n{"id": "c2", "negative": "b"}\n'
    path.write_bytes(whole + tail)
    assert repair_and_read_ids(path) == {"c1", "c2"}
    assert path.read_bytes() == whole


def test_a_file_with_only_a_partial_line_is_emptied(tmp_path):
    path = tmp_path / "neg.jsonl"
    path.write_bytes(b'{"id": "c1", "neg')
    assert repair_and_read_ids(path) == set() and path.read_bytes() == b""
    assert repair_and_read_ids(tmp_path / "missing.jsonl") == set()


def test_the_sink_appends_whole_lines_after_the_repair(tmp_path):
    out = tmp_path / "neg.jsonl"
    out.write_bytes(b'{"id": "1", "negative": "a"}\n{"id": "2", "neg')
    (tmp_path / "neg.skipped.jsonl").write_bytes(b'{"id": "3", "reason": "no_candidate"}\n{"id": "4"')
    sink = AppendSink(out)
    assert sink.done == {"1", "3"}
    sink.write([{"id": "2", "negative": "b"}], [{"id": "4", "reason": "empty"}])
    sink.close()
    assert read_jsonl(out) == [{"id": "1", "negative": "a"}, {"id": "2", "negative": "b"}]
    assert read_jsonl(tmp_path / "neg.skipped.jsonl") == [{"id": "3", "reason": "no_candidate"},
                                                          {"id": "4", "reason": "empty"}]
    umask = os.umask(0)
    os.umask(umask)
    fresh = AppendSink(tmp_path / "new" / "neg.jsonl")  # created: rw-r--r-- (less the umask), never executable
    fresh.close()
    for p in (tmp_path / "new" / "neg.jsonl", tmp_path / "new" / "neg.skipped.jsonl"):
        assert p.stat().st_mode & 0o777 == 0o644 & ~umask, p


def test_a_killed_run_resumed_writes_what_an_uninterrupted_run_writes(tmp_path, captions):
    clean = tmp_path / "clean.jsonl"
    _plant(captions, clean)
    lines = clean.read_bytes().splitlines(keepends=True)
    out = tmp_path / "neg.jsonl"
    _plant(captions, out)
    cut = sum(len(x) for x in lines[:5]) + len(lines[5]) // 2  # killed inside the sixth record
    with open(out, "r+b") as f:
        f.truncate(cut)
    resumed = _plant(captions, out)
    assert resumed.negatives >= 1
    assert sorted(out.read_bytes().splitlines()) == sorted(clean.read_bytes().splitlines())
    assert [json.loads(x)["id"] for x in out.read_bytes().splitlines()][:5] == \
        [json.loads(x)["id"] for x in lines[:5]]


def test_the_command_lines_defaults_a_progress_bar_and_warnings_on_stderr(tmp_path, real_captions, capsys):
    """What a user of ``slipform plant`` sees (the other tests turn both off): the bar, its counts,
    and each input warning through the default log, on stderr."""
    path = tmp_path / "captions.jsonl"
    rows = [json.dumps({"id": f"c{i}", "caption": c}) for i, c in enumerate(real_captions[:8])]
    path.write_text("\n".join(rows[:3] + ['{"id": "broken", "caption": "A cat'] + rows[3:]) + "\n")
    summary = plant_file(path, tmp_path / "neg.jsonl", PlantConfig())
    err = capsys.readouterr().err
    assert "plant: " in err and " captions" in err and f"planted={summary.planted}" in err
    assert f"skipped={sum(summary.skipped.values())}" in err
    warnings = re.findall(r"warning: [^\n]*", err)  # after the bar's last redraw, on its own line or not
    assert len(warnings) == 1 and f"{path}:4" in warnings[0], err
    assert summary.seconds > 0 and summary.startup_seconds > 0
