import os
import threading
import time
from pathlib import Path

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
    assert size == sum(p.stat().st_size for p in tmp_path.glob("*.entry"))


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
    assert cache.get("k19") == blob  # newest kept
    assert cache.get("k0") is None  # oldest evicted
    assert cache.get_size() <= 0.1 * 1024 * 1024


def test_eviction_prefers_least_recently_used(tmp_path, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    cache = Cache(tmp_path, max_size_mb=0.1, eviction_percentage=0.3)
    blob = b"x" * 20_000
    for i in range(4):
        cache.set(f"k{i}", blob)
        now[0] += 1
    cache.get("k0")  # read: now the most recent
    now[0] += 1
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
    assert {p.suffix for p in tmp_path.iterdir()} <= {
        ".entry",
        ".sqlite3",
        ".sqlite3-wal",
        ".sqlite3-shm",
    }


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


# -- the index: running totals, no folder scans, restarts, other processes --


def assert_index_matches_folder(cache: Cache) -> None:
    files = list(cache.cache_dir.glob("*.entry"))
    assert len(cache) == len(files)
    assert cache.get_size() == sum(p.stat().st_size for p in files)


def test_set_get_and_eviction_never_list_the_folder(tmp_path, monkeypatch):
    cache = Cache(tmp_path, max_size_mb=0.1, eviction_percentage=0.25)

    def no_scan(*args, **kwargs):
        raise AssertionError("the cache listed its folder")

    for target, name in (
        (os, "scandir"),
        (os, "listdir"),
        (Path, "glob"),
        (Path, "iterdir"),
        (Path, "rglob"),
    ):
        monkeypatch.setattr(target, name, no_scan)
    for i in range(30):  # 600 kB through a 104 kB cache: several evictions
        cache.set(f"k{i}", b"x" * 20_000)
        assert cache.get(f"k{i}") == b"x" * 20_000
        assert 0 < cache.get_size() <= 0.1 * 1024 * 1024
    assert len(cache) == 3  # the 30th set went over the limit: evicted down to 3 entries
    monkeypatch.undo()
    assert_index_matches_folder(cache)


def test_totals_follow_every_kind_of_change(tmp_path, monkeypatch):
    now = [0.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    cache = Cache(tmp_path, max_size_mb=0.2, default_ttl=100)
    for i in range(6):
        cache.set(f"k{i}", b"a" * 10_000 * (i + 1))  # 210 kB in all: evicts
        assert_index_matches_folder(cache)
        now[0] += 1
    cache.set("k5", b"short")  # overwrite with a smaller value
    assert_index_matches_folder(cache)
    assert [cache.get(f"k{i}") is not None for i in range(6)] == [False] * 3 + [True] * 3
    cache.set("k5", b"long" * 5000, ttl_override=1000)
    cache.invalidate("k4")
    cache.set("k6", b"small")
    assert_index_matches_folder(cache)
    now[0] = 506
    assert cache.get("k3") is None  # expired: removed on read
    assert_index_matches_folder(cache)
    assert cache.cleanup_expired() == 1  # k6
    assert_index_matches_folder(cache)
    assert list(cache.cache_dir.glob("*.entry")) == [cache._path("k5")]
    cache.clear()
    assert len(cache) == 0 and cache.get_size() == 0
    assert_index_matches_folder(cache)


def test_index_survives_a_restart(tmp_path, monkeypatch):
    now = [0.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    first = Cache(tmp_path, max_size_mb=0.1, eviction_percentage=0.3)
    for i in range(4):
        first.set(f"k{i}", b"x" * 20_000)
        now[0] += 1
    first.get("k0")
    now[0] += 1
    second = Cache(tmp_path, max_size_mb=0.1, eviction_percentage=0.3)
    assert (
        (len(second), second.get_size()) == (len(first), first.get_size()) == (4, first.get_size())
    )
    second.set("k4", b"x" * 20_000)  # over the limit: the least recently used go
    second.set("k5", b"x" * 20_000)
    assert second.get("k0") is not None and second.get("k1") is None
    assert_index_matches_folder(second)


def test_a_folder_without_an_index_is_indexed_once(tmp_path, monkeypatch):
    now = [0.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    old = Cache(tmp_path)
    old.set("forever", 1)
    old.set("brief", 2, ttl_override=10)
    old._db.close()
    for p in tmp_path.glob("index.sqlite3*"):  # as an older version left the folder
        p.unlink()
    (tmp_path / "junk.entry").write_bytes(b"not a pickle")
    cache = Cache(tmp_path)
    assert not (tmp_path / "junk.entry").exists()
    assert len(cache) == 2
    assert_index_matches_folder(cache)
    now[0] = 20
    assert cache.cleanup_expired() == 1  # the expiry came from the entry itself
    assert cache.get("forever") == 1


def test_a_damaged_index_is_rebuilt(tmp_path):
    cache = Cache(tmp_path)
    cache.set("k", "v")
    cache._db.close()
    for p in tmp_path.glob("index.sqlite3*"):
        p.unlink()
    (tmp_path / "index.sqlite3").write_bytes(b"this is not a database" * 100)
    reopened = Cache(tmp_path)
    assert reopened.get("k") == "v" and len(reopened) == 1
    assert_index_matches_folder(reopened)


def test_an_entry_missing_from_the_index_is_adopted_on_read(tmp_path):
    cache = Cache(tmp_path)
    cache.set("k", b"v" * 1000)
    with cache._lock:  # as if the process died between the rename and the commit
        cache._db.execute("DELETE FROM entries")
    assert len(cache) == 0
    assert cache.get("k") == b"v" * 1000
    assert_index_matches_folder(cache)


def _hammer(cache_dir: str, worker: int) -> None:
    cache = Cache(cache_dir, max_size_mb=0.25, eviction_percentage=0.2)
    for i in range(150):
        key = f"k{(i * 7 + worker) % 40}"  # processes overwrite each other's keys
        cache.set(key, (key, os.urandom(1000 + 97 * (i % 50))))
        value = cache.get(key)
        assert value is None or value[0] == key
        if i % 10 == 0:
            cache.invalidate(f"k{i % 40}")


def test_processes_sharing_the_folder_keep_one_consistent_index(tmp_path):
    import multiprocessing

    cache = Cache(tmp_path, max_size_mb=0.25, eviction_percentage=0.2)
    cache.set("opened before the fork", 1)  # children inherit an open connection
    procs = [
        multiprocessing.get_context(method).Process(target=_hammer, args=(str(tmp_path), n))
        for n, method in enumerate(["fork", "fork", "spawn"])
    ]
    for p in procs:
        p.start()
    _hammer(str(tmp_path), 3)
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    assert_index_matches_folder(cache)
    assert cache.get_size() <= 0.25 * 1024 * 1024
    for key in [f"k{i}" for i in range(40)]:
        value = cache.get(key)
        assert value is None or value[0] == key


def test_cleanup_expired_also_removes_unreadable_entries(tmp_path):
    cache = Cache(tmp_path)
    cache.set("good", 1)
    cache.set("bad", 2)
    cache._path("bad").write_bytes(b"garbage")
    assert cache.cleanup_expired() == 1
    assert cache.get("good") == 1 and not cache._path("bad").exists()
    assert_index_matches_folder(cache)


def test_evict_oldest_down_to_a_target(tmp_path, monkeypatch):
    now = [0.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    cache = Cache(tmp_path, max_size_mb=None)
    for i in range(5):
        cache.set(f"k{i}", b"x" * 1000)
        now[0] += 1
    assert cache._evict_if_needed() == 0  # unbounded
    assert cache._evict_oldest(cache.get_size() - 1) == 1
    assert cache.get("k0") is None and cache.get("k1") is not None
    assert cache._evict_oldest(0) == 4 and len(cache) == 0
    assert_index_matches_folder(cache)


def test_a_busy_index_never_turns_a_hit_into_an_error(tmp_path):
    import sqlite3

    cache = Cache(tmp_path, busy_timeout=0.05)
    cache.set("k", "v")
    other = sqlite3.connect(tmp_path / "index.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    try:
        assert cache.get("k") == "v"
        with pytest.raises(sqlite3.OperationalError):
            cache.set("k2", "v2")  # a write waits busy_timeout, then says so
        assert not list(tmp_path.glob("*.tmp"))
    finally:
        other.execute("ROLLBACK")
        other.close()
    cache.set("k2", "v2")
    assert cache.get("k2") == "v2"
    assert_index_matches_folder(cache)


def test_an_index_damaged_inside_is_found_at_open_and_rebuilt(tmp_path):
    cache = Cache(tmp_path)
    for i in range(300):  # enough rows for several pages
        cache.set(f"key number {i}", i)
    cache._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    cache._db.close()
    index = tmp_path / "index.sqlite3"
    data = bytearray(index.read_bytes())
    page = 4096
    assert len(data) > 3 * page
    data[2 * page : 3 * page] = b"\xff" * page  # one page of garbage, the header intact
    index.write_bytes(bytes(data))
    reopened = Cache(tmp_path)
    assert len(reopened) == 300 and reopened.get("key number 7") == 7
    assert_index_matches_folder(reopened)
