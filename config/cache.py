"""The cache on Redis, degrading rather than failing when Redis is down: a page is then built from the database
instead of the cache, and a save still saves. Django's RedisCache raises the connection error to every caller."""

import functools
import logging

import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)


def _fail_soft(returns):
    """Run the cache operation; if Redis cannot be reached, log it and return `returns(*args, **kwargs)` instead."""

    def decorate(operation):
        @functools.wraps(operation)
        def run(self, *args, **kwargs):
            try:
                return operation(self, *args, **kwargs)
            except redis.RedisError as error:
                logger.warning("Cache unavailable, %s skipped: %s", operation.__name__, error)
                return returns(*args, **kwargs)

        return run

    return decorate


def _default(key, default=None, *args, **kwargs):
    return default


def _nothing(*args, **kwargs):
    return None


class ReusingRedisCacheClient(RedisCacheClient):
    """Keeps one redis.Redis per connection pool. Django's client builds a new one for every operation, and building
    one sets up some 170 response callbacks: a warm dashboard (six cache reads) spent 2 ms of its 20 ms on that.
    A redis.Redis is safe to share: each command takes a connection from the pool."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class FailSoftRedisCache(RedisCache):
    """A read misses, a write is not kept, a counter counts from nothing (so the log-in throttle does not hold while
    Redis is down: better than refusing every log-in). Every skipped operation is logged."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    get = _fail_soft(_default)(RedisCache.get)
    add = _fail_soft(lambda *args, **kwargs: False)(RedisCache.add)
    set = _fail_soft(_nothing)(RedisCache.set)
    touch = _fail_soft(lambda *args, **kwargs: False)(RedisCache.touch)
    delete = _fail_soft(lambda *args, **kwargs: False)(RedisCache.delete)
    get_many = _fail_soft(lambda *args, **kwargs: {})(RedisCache.get_many)
    has_key = _fail_soft(lambda *args, **kwargs: False)(RedisCache.has_key)
    incr = _fail_soft(lambda key, delta=1, *args, **kwargs: delta)(RedisCache.incr)
    set_many = _fail_soft(lambda data, *args, **kwargs: list(data))(RedisCache.set_many)
    delete_many = _fail_soft(_nothing)(RedisCache.delete_many)
    clear = _fail_soft(lambda *args, **kwargs: False)(RedisCache.clear)
