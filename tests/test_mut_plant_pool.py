"""The plant engine's pool pinned for mutation testing (issue 31): when forking is safe, the threads,
an empty chunk, and chunks in input order through one worker (this process)."""

from __future__ import annotations

import os

import pytest

from slipform.plant.engine import pool


def test_fork_is_safe_only_without_torch_before_minilm_or_new_threads(monkeypatch):
    now = pool.os_threads()
    assert now == len(os.listdir("/proc/self/task")) >= 1
    monkeypatch.setattr(pool, "encoder_loaded", lambda: False)
    assert pool.fork_is_safe((False, now)) is True
    assert pool.fork_is_safe((False, now + 5)) is True
    assert pool.fork_is_safe((False, now - 1)) is False  # a thread started since
    assert pool.fork_is_safe((True, now)) is False       # torch imported before the run
    assert pool.fork_is_safe((False, -1)) is False       # threads unknown
    monkeypatch.setattr(pool, "encoder_loaded", lambda: True)
    assert pool.fork_is_safe((False, now)) is False      # MiniLM ran here
    monkeypatch.setattr(pool, "encoder_loaded", lambda: False)
    monkeypatch.setattr(pool, "os_threads", lambda: -1)
    assert pool.fork_state()[1] == -1
    assert pool.fork_is_safe((False, -1)) is False  # threads unknown before and now: not safe


def test_limit_threads_sets_the_env_and_torchs_pool(monkeypatch):
    torch = pytest.importorskip("torch")
    import threadpoolctl

    limits = []
    monkeypatch.setattr(threadpoolctl, "threadpool_limits", limits.append)  # BLAS left as it is for the suite
    monkeypatch.setenv("SLIPFORM_TORCH_THREADS", "9")
    before = torch.get_num_threads()
    try:
        pool.limit_threads(1)
        assert limits == [1] and os.environ["SLIPFORM_TORCH_THREADS"] == "1" and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_an_empty_chunk_is_answered_without_the_planter():
    from slipform.plant.engine.stream import Chunk

    chunk = Chunk([], skips=[{"id": "1"}], read=1)
    assert pool.plant_chunk(chunk) == (chunk, [], [], {})


def test_one_worker_plants_in_this_process_in_order(monkeypatch):
    calls = []
    monkeypatch.setattr(pool, "init_worker", lambda config, vocab, threads: calls.append(("init", threads)))
    monkeypatch.setattr(pool, "save_vectors", lambda: calls.append("save"))
    monkeypatch.setattr(pool, "plant_chunk", lambda chunk: (chunk, [chunk * 10], [], {}))
    p = pool.LocalPool(1, None, None)
    assert calls == [("init", max(1, os.cpu_count() or 1)), "save"]
    assert p.method is None and p._pool is None and p.workers == 1
    assert list(p.map(iter([1, 2, 3]))) == [(1, [10], [], {}), (2, [20], [], {}), (3, [30], [], {})]
    p.close()
