"""Reading configuration from the environment (12-factor).

Every reader accepts ``NAME_FILE`` as an alternative to ``NAME`` so that secrets can come from
files (Docker/Kubernetes secrets). A missing or malformed value stops start-up with one line that
names the variable, instead of a traceback deep inside Django.
"""

import os
from collections.abc import Mapping
from typing import NoReturn
from urllib.parse import urlsplit

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
# URLs that name no server: a local file, or e-mail printed to the console (EMAIL_URL=console://).
HOSTLESS_SCHEMES = frozenset({"sqlite", "file", "console"})


class ConfigError(SystemExit):
    """Raised for a bad environment variable; as a SystemExit it prints one line and exits 1."""

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        super().__init__(f"Configuration error: {name}: {problem}")


def _fail(name: str, problem: str) -> NoReturn:
    raise ConfigError(name, problem)


def get(
    name: str, default: str | None = None, *, environ: Mapping[str, str] | None = None
) -> str | None:
    """Return NAME, or the contents of the file named by NAME_FILE, or default."""
    environ = os.environ if environ is None else environ
    if name in environ:
        return environ[name]
    file_name = environ.get(f"{name}_FILE")
    if file_name:
        try:
            with open(file_name, encoding="utf-8") as fh:
                return fh.read().strip()
        except OSError as exc:
            _fail(f"{name}_FILE", f"cannot read {file_name!r} ({exc.strerror})")
    return default


def required(name: str, *, environ: Mapping[str, str] | None = None) -> str:
    value = get(name, environ=environ)
    if not value:
        _fail(name, "is required but not set")
    return value


def boolean(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    value = get(name, environ=environ)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    _fail(name, f"expected true/false, got {value!r}")


def integer(name: str, default: int, *, environ: Mapping[str, str] | None = None) -> int:
    value = get(name, environ=environ)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        _fail(name, f"expected a whole number, got {value!r}")


def choice(
    name: str,
    default: str,
    *,
    choices: tuple[str, ...],
    environ: Mapping[str, str] | None = None,
) -> str:
    """One of ``choices``, compared without regard to case; returned as spelled in ``choices``."""
    value = get(name, environ=environ)
    if value is None or value.strip() == "":
        return default
    by_upper = {option.upper(): option for option in choices}
    chosen = by_upper.get(value.strip().upper())
    if chosen is None:
        _fail(name, f"must be one of {', '.join(choices)}, got {value!r}")
    return chosen


def listing(
    name: str, default: list[str], *, environ: Mapping[str, str] | None = None
) -> list[str]:
    value = get(name, environ=environ)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def url(
    name: str,
    default: str | None = None,
    *,
    schemes: tuple[str, ...],
    environ: Mapping[str, str] | None = None,
) -> str | None:
    """A URL whose scheme must be one of ``schemes`` and which names a host (see HOSTLESS_SCHEMES)."""
    value = get(name, default, environ=environ)
    if value is None or value == "":
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        _fail(name, f"scheme must be one of {', '.join(schemes)}, got {value.split(':', 1)[0]!r}")
    if parts.scheme not in HOSTLESS_SCHEMES and not parts.hostname:
        _fail(name, "has no host name")
    try:
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        _fail(name, "has a malformed port")
    return value
