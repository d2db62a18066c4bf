"""docker-compose.yml describes the production shape; no container engine runs here, so we parse it."""

import re
from pathlib import Path

import pytest
import yaml

from tests.test_configuration import run_manage

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def settings_variables() -> set[str]:
    """Every environment variable name the settings read (directly or as NAME_FILE)."""
    source = (ROOT / "jarfalla" / "settings.py").read_text()
    names = set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]*)"', source))
    return names | {f"{name}_FILE" for name in names}


def test_production_services_are_present() -> None:
    assert {"postgres", "redis", "web", "worker", "beat", "migrate"} <= set(SERVICES)


def test_exactly_one_beat() -> None:
    beats = [name for name, svc in SERVICES.items() if "beat" in svc.get("command", [])]
    assert beats == ["beat"]
    assert SERVICES["beat"].get("deploy", {}).get("replicas", 1) == 1


@pytest.mark.parametrize("name", ["postgres", "redis", "web", "worker", "beat"])
def test_long_running_services_have_health_checks(name: str) -> None:
    assert SERVICES[name]["healthcheck"]["test"]


def test_web_health_check_uses_healthz() -> None:
    assert "/healthz/" in " ".join(SERVICES["web"]["healthcheck"]["test"])


def test_migrations_run_before_web_worker_and_beat() -> None:
    assert SERVICES["migrate"]["command"][-2:] == ["migrate", "--no-input"]
    for name in ("web", "worker", "beat"):
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )


def test_data_lives_in_volumes() -> None:
    assert set(COMPOSE["volumes"]) >= {"postgres-data", "redis-data", "app-var"}
    assert "postgres-data:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]


@pytest.mark.parametrize("name", ["web", "worker", "beat", "migrate"])
def test_app_environment_matches_the_settings(name: str) -> None:
    environment = SERVICES[name]["environment"]
    known = settings_variables()
    unknown = set(environment) - known
    assert not unknown, f"{name} sets variables the settings never read: {unknown}"
    assert {"DATABASE_URL", "REDIS_URL", "SITE_URL", "ALLOWED_HOSTS"} <= set(environment)
    assert "SECRET_KEY" in environment or "SECRET_KEY_FILE" in environment
    assert environment["DATABASE_URL"].startswith("postgres://")
    assert environment["REDIS_URL"].startswith("redis://redis:")
    assert environment["DEBUG"] == "false"


def test_dockerfile_serves_with_gunicorn_and_builds_assets() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "requirements.lock" in dockerfile
    assert "--require-hashes" in dockerfile
    assert "compilemessages" in dockerfile
    assert "collectstatic" in dockerfile
    assert '"gunicorn", "jarfalla.wsgi:application"' in dockerfile
    assert "USER app" in dockerfile


def test_local_data_and_secrets_stay_out_of_the_image() -> None:
    """`COPY . .` takes the whole clone: without these the image holds the embedded install's
    database, sent e-mail and secret key, the production secrets and the host's venv."""
    ignored = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {"var", "secrets", ".venv", ".git"} <= ignored


def test_static_files_come_from_the_image_not_a_volume() -> None:
    """collectstatic runs at build time into STATIC_ROOT; a volume over it would keep the first
    image's files (and manifest) through every upgrade. The volume stays at VAR_DIR, where
    existing installations have their generated files (media/…, whose paths the rows hold)."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    var_dir = re.search(r"VAR_DIR=(\S+)", dockerfile)
    static_root = re.search(r"STATIC_ROOT=(\S+)", dockerfile)
    assert var_dir is not None
    assert static_root is not None
    for name in ("web", "worker", "beat", "migrate"):
        for volume in SERVICES[name].get("volumes", []):
            target = volume.split(":")[1].rstrip("/")
            assert not f"{static_root.group(1)}/".startswith(f"{target}/"), (name, volume)
    # Web serves the PDFs the worker renders: both see the same folder, where it always was.
    assert f"app-var:{var_dir.group(1)}" in SERVICES["web"]["volumes"]
    assert f"app-var:{var_dir.group(1)}" in SERVICES["worker"]["volumes"]


def test_static_root_is_read_from_the_environment(tmp_path: Path) -> None:
    """The image sets STATIC_ROOT; settings must honour it, or collectstatic writes into the
    volume again."""
    target = tmp_path / "collected"
    result = run_manage(
        tmp_path,
        "shell",
        "-c",
        "from django.conf import settings; print(settings.STATIC_ROOT)",
        STATIC_ROOT=str(target),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(target)


def test_beat_schedule_file_is_the_one_settings_name(settings) -> None:
    command = SERVICES["beat"]["command"]
    schedule = command[command.index("--schedule") + 1]
    in_var = Path(settings.CELERY_BEAT_SCHEDULE_FILENAME).relative_to(settings.VAR_DIR)
    assert schedule == f"/app/var/{in_var}"
    assert f"test -f {schedule}" in " ".join(SERVICES["beat"]["healthcheck"]["test"])


def test_readme_documents_exactly_the_variables_the_settings_read() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme.split("| variable | meaning | default |", 1)[1].split("\n\n", 1)[0]
    documented = {
        name
        for row in table.splitlines()[1:]
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])
    }
    read = {name for name in settings_variables() if not name.endswith("_FILE")}
    assert documented - read == set(), "documented but never read"
    # Internal switches: `make bench` only, and the tests' static files storage.
    assert read - documented == {"BENCH", "STATICFILES_STORAGE"}, "read but not documented"
