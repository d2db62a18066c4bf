"""The bench drops a database, flushes a Redis database and floods a server with requests: it
does so only on this machine, at 127.0.0.1, and only to databases meant for it."""

from urllib.parse import urlsplit

LOCAL_HOST = "127.0.0.1"


class NotLocalError(SystemExit):
    """A target that is not 127.0.0.1 (or not the bench's own database); exits with one line."""

    def __init__(self, message: str) -> None:
        super().__init__(f"make bench: {message}")


def host_of(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def require_local(name: str, url: str) -> None:
    """Refuse any URL whose host is not literally 127.0.0.1 (not even "localhost", which may
    resolve elsewhere, nor ::1)."""
    host = host_of(url)
    if host != LOCAL_HOST:
        raise NotLocalError(
            f"{name} must point at {LOCAL_HOST}, not {host or 'an unreadable URL'!r} ({url!r}); "
            "the bench only runs against this machine."
        )


def require_bench_database(url: str) -> str:
    """The PostgreSQL URL must be local and name a database meant for the bench (it is dropped
    and created again); returns the database name."""
    require_local("DATABASE_URL", url)
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise NotLocalError(f"DATABASE_URL must be a PostgreSQL URL, got {parts.scheme!r}.")
    name = parts.path.lstrip("/")
    if not name.endswith("_bench"):
        raise NotLocalError(
            f"the bench drops and creates its database, so its name must end in _bench "
            f"(got {name!r})."
        )
    return name


def require_bench_redis(url: str) -> int:
    """The Redis URL must be local and name a numbered database other than 0 (it is flushed);
    returns the database number."""
    require_local("REDIS_URL", url)
    parts = urlsplit(url)
    if parts.scheme != "redis":
        raise NotLocalError(f"REDIS_URL must be a redis:// URL, got {parts.scheme!r}.")
    number = parts.path.lstrip("/")
    if not number.isdigit() or int(number) == 0:
        raise NotLocalError(
            f"the bench flushes its Redis database, so REDIS_URL must name one other than 0 "
            f"(got {number or 'none'!r})."
        )
    return int(number)
