"""jarfalla.cache.RedisCache: Django's contract for incr, in one round trip to Redis."""

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


def test_incr_adds_to_an_existing_value(redis_cache: RedisCache) -> None:
    redis_cache.set("generation", 41, timeout=None)
    assert redis_cache.incr("generation") == 42
    assert redis_cache.incr("generation", 8) == 50
    assert redis_cache.get("generation") == 50


def test_incr_of_a_missing_key_raises_and_creates_nothing(redis_cache: RedisCache) -> None:
    with pytest.raises(ValueError, match="not found"):
        redis_cache.incr("missing")
    assert redis_cache.get("missing") is None
    assert not redis_cache.has_key("missing")


def test_incr_keeps_the_timeout(redis_cache: RedisCache) -> None:
    redis_cache.set("short", 1, timeout=60)
    redis_cache.incr("short")
    client = redis_cache._cache.get_client()
    assert 0 < client.ttl(redis_cache.make_key("short")) <= 60


def test_incr_is_one_round_trip(redis_cache: RedisCache, monkeypatch: pytest.MonkeyPatch) -> None:
    redis_cache.set("counted", 1, timeout=None)
    client = redis_cache._cache.get_client(write=True)
    commands: list[str] = []
    execute = client.execute_command

    def counting(*args: object, **kwargs: object) -> object:
        commands.append(str(args[0]))
        return execute(*args, **kwargs)

    monkeypatch.setattr(client, "execute_command", counting)
    assert redis_cache.incr("counted") == 2
    assert commands == ["EVAL"]
