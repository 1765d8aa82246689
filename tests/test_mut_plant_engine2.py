"""The planting engine's modules (plant/engine/), what the issue-31 samples of each left unpinned:
counts that add up over a chunk, and more (each test names the claim)."""

from collections import Counter

from slipform.plant.engine.stream import Chunk, account
from slipform.plant.engine.summary import Summary
from slipform.text.io import Caption


class _Sink:
    def __init__(self):
        self.calls = []

    def write(self, records, skips):
        self.calls.append((records, skips))


def test_account_counts_every_skip_of_one_reason():
    chunk = Chunk([Caption("a", "x", line=1)], skips=[{"id": "p", "reason": "empty caption", "file": "f", "line": 2},
                                                        {"id": "q", "reason": "empty caption", "file": "f", "line": 3}],
                  read=3)
    summary = Summary(skipped=Counter({"empty caption": 4}))
    account(summary, _Sink(), "f", chunk, [], [{"id": "a", "reason": "backend error: a"},
                                               {"id": "a", "reason": "backend error: b"}], {})
    assert summary.skipped == {"empty caption": 6, "backend error": 2}


def test_an_append_sink_makes_the_folders_of_its_output(tmp_path):
    from slipform.plant.engine.sink import AppendSink

    out = tmp_path / "a" / "b" / "neg.jsonl"
    sink = AppendSink(out)
    sink.write([{"id": "1"}], [{"id": "2", "reason": "r"}])
    sink.close()
    assert out.read_text() == '{"id": "1"}\n' and (out.parent / "neg.skipped.jsonl").read_text() == \
        '{"id": "2", "reason": "r"}\n'
    again = AppendSink(out)  # again, in the folders now there
    assert again.done == {"1", "2"}
    again.close()


def test_a_shard_attempt_starts_with_nothing_done(tmp_path):
    from slipform.plant.engine.sink import ShardSink

    sink = ShardSink(tmp_path / "shards", "part-00000-of-00001")  # the folder made for it
    assert sink.done == set()  # a shard is written whole or not at all: no id is left out of it
    sink.discard()
    assert not list((tmp_path / "shards").iterdir())
