import os
import threading
import time

import pytest

from cache import Cache, make_key


def test_set_get_roundtrip_and_miss(tmp_path):
    cache = Cache(tmp_path)
    assert cache.get("missing") is None
    assert cache.get("missing", "dflt") == "dflt"
    cache.set("k", {"a": [1, 2], "b": b"\x00bytes"})
    assert cache.get("k") == {"a": [1, 2], "b": b"\x00bytes"}
    assert "k" in cache and "missing" not in cache
    assert cache.hits == 2 and cache.misses >= 3  # get x2 hits ('k' via get and `in`)


def test_values_survive_a_new_instance(tmp_path):
    Cache(tmp_path).set("k", 42)
    assert Cache(tmp_path).get("k") == 42


def test_default_ttl_and_override(tmp_path, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    cache = Cache(tmp_path, default_ttl=10)
    cache.set("short", 1)
    cache.set("long", 2, ttl_override=100)
    now[0] += 11
    assert cache.get("short") is None
    assert cache.get("long") == 2
    now[0] += 100
    assert cache.get("long") is None


def test_no_ttl_means_forever(tmp_path, monkeypatch):
    now = [0.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    cache = Cache(tmp_path)
    cache.set("k", "v")
    now[0] = 10**9
    assert cache.get("k") == "v"


def test_invalidate_only_removes_that_key(tmp_path):
    cache = Cache(tmp_path)
    cache.set("a", 1)
    cache.set("b", 2)
    assert cache.invalidate("a") is True
    assert cache.invalidate("a") is False
    assert cache.get("a") is None and cache.get("b") == 2


def test_get_size_counts_entry_bytes(tmp_path):
    cache = Cache(tmp_path)
    assert cache.get_size() == 0
    cache.set("a", b"x" * 10_000)
    size = cache.get_size()
    assert 10_000 < size < 11_000
    assert size == sum(p.stat().st_size for p in tmp_path.iterdir())


def test_cleanup_expired_removes_only_expired(tmp_path, monkeypatch):
    now = [0.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    cache = Cache(tmp_path, default_ttl=5)
    for i in range(3):
        cache.set(f"old{i}", i)
    cache.set("keep", 1, ttl_override=50)
    now[0] = 10
    assert cache.cleanup_expired() == 3
    assert len(cache) == 1 and cache.get("keep") == 1


def test_eviction_keeps_cache_under_max_size(tmp_path):
    cache = Cache(tmp_path, max_size_mb=0.1, eviction_percentage=0.25)  # ~104 kB
    blob = b"x" * 20_000
    for i in range(20):
        cache.set(f"k{i}", blob)
        assert cache.get_size() <= 0.1 * 1024 * 1024
    assert cache.get("k19") == blob          # newest kept
    assert cache.get("k0") is None           # oldest evicted
    assert cache.get_size() <= 0.1 * 1024 * 1024


def test_eviction_prefers_least_recently_used(tmp_path):
    cache = Cache(tmp_path, max_size_mb=0.1, eviction_percentage=0.3)
    blob = b"x" * 20_000
    for i in range(4):
        cache.set(f"k{i}", blob)
        os.utime(cache._path(f"k{i}"), (1000 + i, 1000 + i))
    cache.get("k0")  # touched: now the most recent
    for i in range(4, 7):
        cache.set(f"k{i}", blob)
    assert cache.get("k0") == blob
    assert cache.get("k1") is None


def test_corrupt_entry_is_a_miss_and_removed(tmp_path):
    cache = Cache(tmp_path)
    cache.set("k", "v")
    path = cache._path("k")
    path.write_bytes(b"\x80\x04garbage-not-a-pickle")
    assert cache.get("k") is None
    assert not path.exists()
    cache.set("k", "again")
    assert cache.get("k") == "again"


def test_truncated_entry_is_a_miss(tmp_path):
    cache = Cache(tmp_path)
    cache.set("k", b"y" * 5000)
    path = cache._path("k")
    path.write_bytes(path.read_bytes()[:100])
    assert cache.get("k") is None


def test_no_temp_files_left_behind(tmp_path):
    cache = Cache(tmp_path)
    for i in range(10):
        cache.set(f"k{i}", i)
    assert all(p.suffix == ".entry" for p in tmp_path.iterdir())


def test_concurrent_writers_and_readers(tmp_path):
    cache = Cache(tmp_path, max_size_mb=1)
    errors = []

    def worker(n):
        try:
            for i in range(50):
                key = f"k{i % 10}"
                cache.set(key, (key, b"z" * 2000))
                value = cache.get(key)
                assert value is None or value[0] == key
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(cache) == 10
    for i in range(10):
        assert cache.get(f"k{i}")[0] == f"k{i}"


def test_make_key_is_stable_and_ordered():
    assert make_key("script", "m", 1, "topic") == make_key("script", "m", 1, "topic")
    assert make_key("a", "b") != make_key("b", "a")


def test_non_string_key_is_rejected(tmp_path):
    with pytest.raises(TypeError):
        Cache(tmp_path).set(("tuple",), 1)


def test_bad_eviction_percentage(tmp_path):
    with pytest.raises(ValueError):
        Cache(tmp_path, eviction_percentage=0)
