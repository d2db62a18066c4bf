"""jarfalla.cache.RedisCache: Django's contract for incr, in one round trip to Redis."""

import secrets
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.cache import caches

from jarfalla.cache import RedisCache
from tests.conftest import require_service


@pytest.fixture
def redis_cache() -> RedisCache:
    if not settings.REDIS_URL:
        require_service("needs Redis; set REDIS_URL")
    default = caches["default"]
    assert isinstance(default, RedisCache)
    return default


@pytest.fixture
def key(redis_cache: RedisCache) -> Iterator[str]:
    """A key no other test or process uses, removed afterwards in both versions used here."""
    name = f"test-incr-{secrets.token_hex(8)}"
    yield name
    redis_cache.delete_many([name])
    redis_cache.delete(name, version=2)


def test_incr_adds_to_an_existing_value(redis_cache: RedisCache, key: str) -> None:
    redis_cache.set(key, 41, timeout=None)
    assert redis_cache.incr(key) == 42
    assert redis_cache.incr(key, 8) == 50
    assert redis_cache.decr(key, 10) == 40
    assert redis_cache.get(key) == 40


def test_incr_of_a_missing_key_raises_and_creates_nothing(
    redis_cache: RedisCache, key: str
) -> None:
    with pytest.raises(ValueError, match="not found"):
        redis_cache.incr(key)
    assert redis_cache.get(key) is None
    assert not redis_cache.has_key(key)


def test_incr_follows_the_key_version(redis_cache: RedisCache, key: str) -> None:
    redis_cache.set(key, 1, timeout=None, version=2)
    with pytest.raises(ValueError, match="not found"):
        redis_cache.incr(key)  # version 1 does not exist
    assert redis_cache.incr(key, version=2) == 2
    assert redis_cache.get(key, version=2) == 2


def test_incr_keeps_the_timeout(redis_cache: RedisCache, key: str) -> None:
    redis_cache.set(key, 1, timeout=60)
    redis_cache.incr(key)
    client = redis_cache._cache.get_client()
    assert 0 < client.ttl(redis_cache.make_key(key)) <= 60


def test_incr_is_one_round_trip(
    redis_cache: RedisCache, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    redis_cache.set(key, 1, timeout=None)
    client = redis_cache._cache.get_client(write=True)
    commands: list[str] = []
    execute = client.execute_command

    def counting(*args: object, **kwargs: object) -> object:
        commands.append(str(args[0]))
        return execute(*args, **kwargs)

    monkeypatch.setattr(client, "execute_command", counting)
    assert redis_cache.incr(key) == 2
    assert commands == ["EVAL"]
