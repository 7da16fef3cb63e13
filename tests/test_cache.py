"""The Redis cache fails soft: with nothing listening, reads miss and writes are skipped, never raised."""

import socket

from config.cache import FailSoftRedisCache


def unreachable_cache() -> FailSoftRedisCache:
    with socket.socket() as probe:  # a port just freed, so nothing listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return FailSoftRedisCache(f"redis://127.0.0.1:{port}/0", {"OPTIONS": {"socket_connect_timeout": 1}})


def test_with_redis_unreachable_reads_miss_and_writes_are_skipped(caplog):
    cache = unreachable_cache()

    assert cache.get("page", "missing") == "missing"
    assert cache.get_or_set("page", lambda: "built from the database") == "built from the database"
    cache.set("page", "html")
    assert cache.add("page", "html") is False
    assert cache.incr("login-failures", 2) == 2
    assert cache.get_many(["a", "b"]) == {}
    assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
    cache.delete_many(["a", "b"])
    assert cache.delete("page") is False
    assert "Cache unavailable, get skipped" in caplog.text
