"""`make bench` (``python -m jarfalla.bench``): seed, start the production shape, measure, report.

1. PostgreSQL database ``jarfalla_bench`` dropped and created, Redis database 14 flushed (both
   on 127.0.0.1; anything else is refused).
2. A local SMTP sink; then, in this process with the bench's environment (DEBUG off, its own
   SECRET_KEY and VAR_DIR): migrate, collectstatic and seed_demo (the national set of 290
   municipalities / 100,000 units, three of them of exact sizes), the bench's users and sessions,
   and one request per page scenario through the test client to count its SQL queries.
3. gunicorn (sync workers) and one Celery worker; wrk drives each page scenario with 20
   connections for a fixed time after a short warm-up; the worker renders the PDF report; this
   process runs the reminder dispatcher against the sink.
4. One table (and the same as Markdown for docs/performance.md), a JSON record in
   var/bench/<timestamp>.json, and the exit code: 0 all targets met, 1 errors, 2 a target
   missed or pending.

Every process started here runs in its own process group and is stopped on the way out, also
after Ctrl-C, SIGTERM or a failure.
"""

import argparse
import datetime as dt
import io
import json
import os
import platform
import secrets
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from jarfalla.bench import loadgen, procs, report, safety, scenarios
from jarfalla.bench.report import Check, Result
from jarfalla.bench.smtpsink import read_count

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/jarfalla_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
OUTPUT_DIR = BASE_DIR / "var" / "bench"

# Everything jarfalla/settings.py reads from the environment (and the *_FILE variants): the bench
# replaces the caller's values with its own, so that no ambient DATABASE_URL or SECRET_KEY_FILE
# can point the bench at something else.
SETTINGS_ENV = (
    "VAR_DIR",
    "DEBUG",
    "SITE_URL",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "DATABASE_POOL_MIN",
    "DATABASE_POOL_MAX",
    "REDIS_URL",
    "DEFAULT_FROM_EMAIL",
    "ACCESSIBILITY_CONTACT_EMAIL",
    "EMAIL_URL",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "MFA_TOTP_ISSUER",
    "SESSION_IDLE_TIMEOUT",
    "SECURE_SSL_REDIRECT",
    "TRUST_X_FORWARDED_PROTO",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_PRELOAD",
    "STATICFILES_STORAGE",
    "LOG_LEVEL",
    "BENCH",
)


@dataclass
class Config:
    database_url: str
    redis_url: str
    port: int
    smtp_port: int
    duration: float
    warmup: float
    connections: int
    threads: int
    workers: int
    reminders: int
    only: frozenset[str]
    reuse_data: bool
    loadgen: str
    run_dir: Path
    out_dir: Path

    @property
    def site_url(self) -> str:
        return f"http://{safety.LOCAL_HOST}:{self.port}"

    def wanted(self, name: str) -> bool:
        return not self.only or name in self.only or name == scenarios.BASELINE.name


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m jarfalla.bench",
        description="Benchmarks at municipal and national scale (docs/performance.md).",
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds per scenario (10)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up (2)")
    parser.add_argument("--connections", type=int, default=20, help="concurrent connections (20)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (3)")
    parser.add_argument("--reminders", type=int, default=20_000, help="reminders (20,000)")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        choices=scenarios.scenario_names(),
        help="run only these scenarios (repeatable; the baseline always runs)",
    )
    parser.add_argument(
        "--loadgen",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk when installed (auto), or the stdlib fallback",
    )
    parser.add_argument(
        "--reuse-data",
        action="store_true",
        help="development aid: keep an already seeded bench database instead of starting afresh",
    )
    return parser.parse_args(argv)


def make_config(args: argparse.Namespace, stamp: str) -> Config:
    return Config(
        database_url=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        redis_url=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        port=procs.free_port(),
        smtp_port=procs.free_port(),
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        threads=args.threads,
        workers=args.workers,
        reminders=args.reminders,
        only=frozenset(args.only),
        reuse_data=args.reuse_data,
        loadgen=args.loadgen,
        run_dir=OUTPUT_DIR / f"run-{stamp}",
        out_dir=OUTPUT_DIR,
    )


def check_local(config: Config) -> None:
    safety.require_bench_database(config.database_url)
    safety.require_bench_redis(config.redis_url)
    safety.require_local("target URL", config.site_url)
    safety.require_local("EMAIL_URL", f"smtp://{safety.LOCAL_HOST}:{config.smtp_port}")


def bench_env(config: Config, base: Mapping[str, str]) -> dict[str, str]:
    env = {
        key: value
        for key, value in base.items()
        if key not in SETTINGS_ENV and key.removesuffix("_FILE") not in SETTINGS_ENV
    }
    env.update(
        DJANGO_SETTINGS_MODULE="jarfalla.settings",
        PYTHONUNBUFFERED="1",
        BENCH="1",
        DEBUG="false",
        SECRET_KEY=f"bench-{secrets.token_urlsafe(64)}",
        ALLOWED_HOSTS=safety.LOCAL_HOST,
        SITE_URL=config.site_url,
        DATABASE_URL=config.database_url,
        REDIS_URL=config.redis_url,
        EMAIL_URL=f"smtp://{safety.LOCAL_HOST}:{config.smtp_port}",
        DEFAULT_FROM_EMAIL="Järfällamodellen <noreply@bench.invalid>",
        # Its own var/: secret key file, static files, media and cache stay apart from `make run`.
        VAR_DIR=str(OUTPUT_DIR / "var"),
        LOG_LEVEL="WARNING",
    )
    return env


# --- Output -----------------------------------------------------------------------------------

_T0 = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - _T0:6.1f}s] {message}", flush=True)


@dataclass
class Run:
    config: Config
    processes: procs.Processes
    results: list[Result] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    served: int = 0
    generator: str = ""

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        say(f"{name} …")
        try:
            yield
        finally:
            self.phases[name] = round(time.monotonic() - started, 1)


# --- Services ---------------------------------------------------------------------------------


def reset_stores(config: Config) -> tuple[bool, str]:
    """Drop and create the bench database, flush the bench's Redis database. Returns whether
    the database was created afresh (with --reuse-data an existing one is kept) and the
    PostgreSQL version."""
    import psycopg
    import redis

    parts = urlsplit(config.database_url)
    name = safety.require_bench_database(config.database_url)
    admin_url = parts._replace(scheme="postgresql", path="/postgres").geturl()
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        raise SystemExit(
            f"make bench: PostgreSQL at {parts.netloc} is not reachable: {error}"
        ) from None
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        fresh = not (exists and config.reuse_data)
        if fresh:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        row = admin.execute("SHOW server_version").fetchone()
    try:
        redis.Redis.from_url(config.redis_url, socket_connect_timeout=5).flushdb()
    except redis.RedisError as error:
        raise SystemExit(
            f"make bench: Redis at {config.redis_url} is not reachable: {error}"
        ) from None
    return fresh, str(row[0]) if row else "?"


def start_sink(run: Run, env: Mapping[str, str]) -> Path:
    count_file = run.config.run_dir / "smtp-count"
    run.processes.start(
        "smtp-sink",
        [
            sys.executable,
            "-m",
            "jarfalla.bench.smtpsink",
            "--port",
            str(run.config.smtp_port),
            "--count-file",
            str(count_file),
        ],
        env=env,
        cwd=BASE_DIR,
    )
    procs.wait_until(count_file.exists, timeout=30, what="the SMTP sink")
    return count_file


def gunicorn_argv(config: Config) -> list[str]:
    # The production command (Dockerfile, docker-compose.yml) without --max-requests, which
    # would recycle the workers in the middle of a measurement, and without the access log.
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "jarfalla.wsgi:application",
        "--bind",
        f"{safety.LOCAL_HOST}:{config.port}",
        "--workers",
        str(config.workers),
        "--worker-class",
        "sync",
        "--timeout",
        "60",
        "--log-level",
        "warning",
    ]


def celery_argv() -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "jarfalla",
        "worker",
        "--loglevel=WARNING",
        "--concurrency=1",
        "--hostname=bench@%h",
        "--include=jarfalla.bench.tasks",
        "--without-gossip",
        "--without-mingle",
    ]


def http_status(url: str, timeout: float = 5) -> int:
    safety.require_local("target URL", url)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - 127.0.0.1 only
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


def drain(run: Run, *, quick: float = 0.25, timeout: float = 180) -> float:
    """Wait until gunicorn has worked off what the load generator left queued.

    wrk stops after its duration, but requests it already sent stay in the sockets and the
    sync workers still answer them: a slow page would otherwise steal the next scenario's
    workers. The server is drained when the baseline answers quickly again. Returns the wait."""
    url = run.config.site_url + scenarios.BASELINE.path
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        asked = time.monotonic()
        status = http_status(url, timeout=timeout)
        run.served += 1
        if status == 200 and time.monotonic() - asked < quick:
            break
    return round(time.monotonic() - started, 1)


def workers_rss_mb(master: int) -> list[float]:
    return [
        procs.memory_kb(pid).get("VmRSS", 0) / 1024 for pid in sorted(procs.children_of(master))
    ]


# --- Scenarios --------------------------------------------------------------------------------


def fill(template: str, values: Mapping[str, str]) -> str:
    return template.format(**values)


def run_load(
    run: Run, url: str, method: str, headers: dict[str, str], body: str, duration: float, name: str
) -> loadgen.LoadResult:
    config = run.config
    if config.loadgen == "wrk" and not loadgen.wrk_path():
        raise RuntimeError("--loadgen wrk, but wrk is not installed (apt-get install wrk)")
    if config.loadgen != "python" and loadgen.wrk_path():
        spec = config.run_dir / f"request-{name}.txt"
        spec.write_text(loadgen.request_spec(method, headers, body), encoding="utf-8")
        result = loadgen.run_wrk(
            url,
            spec,
            connections=config.connections,
            threads=config.threads,
            duration=duration,
            log=config.run_dir / "wrk.log",
        )
    else:
        result = loadgen.run_python(
            url, method, headers, body, connections=config.connections, duration=duration
        )
    run.generator = result.generator
    run.served += result.requests + sum(result.socket_errors.values())
    return result


def http_scenario(run: Run, scenario: scenarios.HttpScenario, world: Any, master: int) -> Result:
    from django.conf import settings

    from jarfalla.bench.world import CSRF_FIELD, probe

    config = run.config
    values = world.placeholders()
    path = fill(scenario.path, values)
    result = Result(name=scenario.name, title=scenario.title, target=scenario.target)
    result.extra["path"] = path
    host = f"{safety.LOCAL_HOST}:{config.port}"
    session = world.sessions.get(scenario.persona) if scenario.persona else None
    form = {key: fill(value, values) for key, value in scenario.form}

    found = probe(path, session=session, host=host, method=scenario.method, form=form)
    result.queries = found.queries
    result.extra["alone_ms"] = round(found.elapsed_ms, 1)
    if found.status not in scenario.expect:
        return result.fail(
            f"{scenario.method} {path} answered {found.status} before the load "
            f"(expected {'/'.join(map(str, scenario.expect))})"
            + (f": {found.error}" if found.error else "")
        )
    if scenario.compare_path:
        compare_path = fill(scenario.compare_path, values)
        persona = scenario.compare_persona or scenario.persona
        compared = probe(
            compare_path, session=world.sessions.get(persona) if persona else None, host=host
        )
        if compared.status not in scenario.expect:
            return result.fail(f"GET {compare_path} answered {compared.status}")
        result.queries_compare = compared.queries
        result.extra["compare_path"] = compare_path

    cookies = {}
    if session:
        cookies[settings.SESSION_COOKIE_NAME] = session
    headers = {"Accept": "text/html", "User-Agent": "jarfalla-bench"}
    body = ""
    if scenario.method == "POST":
        cookies[settings.CSRF_COOKIE_NAME] = found.csrf_cookie
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Origin"] = config.site_url
        body = urlencode({**form, CSRF_FIELD: found.csrf_token})
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())

    url = config.site_url + path
    if config.warmup:
        run_load(run, url, scenario.method, headers, body, config.warmup, scenario.name)
        drain(run)
    load = run_load(run, url, scenario.method, headers, body, config.duration, scenario.name)
    result.extra["drain_s"] = drain(run)
    run.processes.check_alive()
    result.rate = load.rate
    result.p50_ms, result.p99_ms = load.p50_ms, load.p99_ms
    result.requests = load.requests
    result.errors = load.errors(scenario.expect)
    result.statuses = {str(code): n for code, n in sorted(load.statuses.items())}
    rss = workers_rss_mb(master)
    result.memory_mb = max(rss) if rss else None
    result.extra.update(
        p90_ms=load.p90_ms,
        mean_ms=load.mean_ms,
        max_ms=load.max_ms,
        socket_errors=load.socket_errors,
        worker_rss_mb=[round(value, 1) for value in rss],
        generator=load.generator,
    )
    if scenario.name != scenarios.BASELINE.name:
        result.note = (
            f"one request alone (in-process, idle server): {found.elapsed_ms:,.0f} ms, "
            f"{found.queries} queries"
        )
    if scenario.name == scenarios.BASELINE.name:
        result.checks.append(
            Check("baseline makes no SQL queries", found.queries == 0, f"{found.queries}")
        )
    return result


def pdf_scenario(run: Run, world: Any) -> tuple[Result, float | None]:
    from jarfalla.bench import tasks
    from jarfalla.celery import app

    units = world.counts.get("report_municipality_units", scenarios.REPORT_UNITS)
    result = Result(
        name=scenarios.PDF,
        title=scenarios.PDF_TITLE.format(units=units),
        kind="pdf",
        target=scenarios.PDF_TARGET,
        rate_unit="PDF/s",
    )
    missing = tasks.missing_interface()
    if missing:
        result.status = report.PENDING
        result.note = (
            f"pending: {missing} (expects rollout.reports.render_board_report_html(municipality)"
            " -> str and render_board_report_pdf(municipality) -> bytes; see jarfalla/bench/tasks.py)"
        )
        return result, None
    out = run.config.run_dir / "pdf.json"
    app.send_task("bench.render_board_report", args=[world.report_municipality, str(out)])
    procs.wait_until(out.exists, timeout=600, what="the PDF report in the Celery worker")
    data = json.loads(out.read_text(encoding="utf-8"))
    result.extra.update({key: value for key, value in data.items() if key != "traceback"})
    peak = data.get("memory_kb", {}).get("VmHWM")
    peak_mb = peak / 1024 if peak else None
    result.memory_mb = peak_mb
    if "error" in data:
        (run.config.run_dir / "pdf-traceback.txt").write_text(data.get("traceback", ""))
        return result.fail(f"the report failed in the worker: {data['error']}"), peak_mb
    result.seconds, result.reference_seconds = data["product_s"], data["weasyprint_s"]
    result.rate = 1 / data["product_s"] if data["product_s"] else None
    result.p50_ms = data["product_s"] * 1000
    result.note = (
        f"product {data['product_s']:.2f} s vs {data['weasyprint_call']} {data['weasyprint_s']:.2f} s"
        f" ({data['pdf_bytes'] / 1024:.0f} KiB PDF)"
    )
    return result, peak_mb


def reminders_scenario(run: Run, count_file: Path) -> Result:
    from jarfalla.bench import reminders

    count = run.config.reminders
    result = Result(
        name=scenarios.REMINDERS,
        title=scenarios.REMINDERS_TITLE.format(count=count),
        kind="reminders",
        target=scenarios.REMINDERS_TARGET,
        rate_unit="msg/s",
    )

    def wait(expected: int) -> None:
        procs.wait_until(
            lambda: read_count(count_file) >= expected,
            timeout=300,
            what=f"{expected} messages at the SMTP sink",
            interval=0.05,
        )

    times = reminders.run(
        count,
        sink_count=lambda: read_count(count_file),
        wait=wait,
        give_up_ratio=scenarios.REMINDERS_GIVE_UP_RATIO,
    )
    result.seconds, result.reference_seconds = times.dispatch_estimate_s, times.direct_s
    result.rate = times.sent / times.dispatch_s if times.dispatch_s else None
    result.requests = times.sent
    samples = sorted(times.queries_per_reminder.items())
    result.queries = samples[-1][1]
    result.extra.update(
        direct_s=times.direct_s,
        dispatch_s=times.dispatch_s,
        dispatch_estimate_s=times.dispatch_estimate_s,
        direct_rate=count / times.direct_s if times.direct_s else None,
        queries_per_reminder={str(n): q for n, q in samples},
        sent=times.sent,
        failed=times.failed,
        stopped_after=times.stopped_after,
        checkpointed=times.checkpointed,
    )
    (small, q_small), (large, q_large) = samples[0], samples[-1]
    result.checks.append(
        Check(
            "queries per reminder bounded",
            q_large <= q_small,
            f"{q_small:.2f} at {small}, {q_large:.2f} at {large}",
        )
    )
    if times.failed:
        return result.fail(f"the dispatcher could not send {times.failed} reminders")
    if times.stopped_after:
        result.note = (
            f"dispatcher stopped after {times.dispatch_s:.0f} s with {times.sent:,} of {count:,} "
            f"sent ({times.sent / times.dispatch_s:.1f}/s); all {count:,} would take "
            f"~{times.dispatch_estimate_s:.0f} s vs SMTP alone {times.direct_s:.1f} s "
            f"({count / times.direct_s:.0f}/s, one connection); {q_large:.2f} queries per reminder"
        )
    elif times.sent != count:
        return result.fail(f"the dispatcher sent {times.sent} of {count}")
    else:
        result.note = (
            f"dispatcher {times.dispatch_s:.1f} s vs SMTP alone {times.direct_s:.1f} s "
            f"(one connection); {q_large:.2f} queries per reminder"
        )
    if not times.checkpointed:
        result.note += " (no CHECKPOINT before the sweep: the database user may not run one)"
    return result


def memory_result(run: Run, web_rss: list[float], workers: int, pdf_peak: float | None) -> Result:
    per_worker = run.served / workers if workers else 0
    result = Result(
        name=scenarios.MEMORY,
        title=scenarios.MEMORY_TITLE,
        kind="memory",
        memory_mb=max(web_rss) if web_rss else None,
        requests=run.served,
    )
    enough = per_worker >= scenarios.MIN_REQUESTS_PER_WORKER
    web_ok = None if not web_rss or not enough else max(web_rss) <= scenarios.WEB_RSS_LIMIT_MB
    result.checks.append(
        Check(
            f"web worker RSS <= {scenarios.WEB_RSS_LIMIT_MB:g} MB after "
            f"{scenarios.MIN_REQUESTS_PER_WORKER:,} requests",
            web_ok,
            f"{max(web_rss):.1f} MB after ~{per_worker:,.0f} requests per worker"
            if web_rss
            else "no workers",
        )
    )
    result.checks.append(
        Check(
            f"PDF worker peak <= {scenarios.PDF_PEAK_LIMIT_MB:g} MB",
            None if pdf_peak is None else pdf_peak <= scenarios.PDF_PEAK_LIMIT_MB,
            "pending" if pdf_peak is None else f"{pdf_peak:.1f} MB",
        )
    )
    result.extra.update(web_worker_rss_mb=[round(v, 1) for v in web_rss], pdf_peak_mb=pdf_peak)
    result.note = f"web workers {', '.join(f'{v:.0f}' for v in web_rss)} MB" + (
        "" if pdf_peak is None else f"; PDF worker peak {pdf_peak:.0f} MB"
    )
    return result


# --- The run ----------------------------------------------------------------------------------


def setup_django(env: Mapping[str, str], config: Config) -> None:
    for key in list(os.environ):
        if key in SETTINGS_ENV or key.removesuffix("_FILE") in SETTINGS_ENV:
            del os.environ[key]
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings

    # Belt and braces: what Django actually connects to must be local too.
    database = settings.DATABASES["default"]
    safety.require_local("DATABASE_URL", f"postgres://{database['HOST']}:{database['PORT']}/")
    safety.require_local("REDIS_URL", str(settings.CACHES["default"]["LOCATION"]))
    if not getattr(settings, "BENCH", False):
        raise SystemExit("make bench: settings.BENCH is off; the baseline URL would be missing")


def seed() -> None:
    from django.core.management import call_command

    national = (
        scenarios.NATIONAL_MUNICIPALITIES - 3,
        scenarios.NATIONAL_UNITS
        - scenarios.BIG_UNITS
        - scenarios.SMALL_UNITS
        - scenarios.REPORT_UNITS,
    )
    for municipalities, units, prefix in (
        (*national, "Kommun"),
        (1, scenarios.BIG_UNITS, scenarios.BIG_PREFIX),
        (1, scenarios.SMALL_UNITS, scenarios.SMALL_PREFIX),
        (1, scenarios.REPORT_UNITS, scenarios.REPORT_PREFIX),
    ):
        arguments = [
            "--force",
            f"--municipalities={municipalities}",
            f"--units={units}",
            f"--prefix={prefix}",
            f"--seed={scenarios.SEED}",
        ]
        say(f"  seed_demo {' '.join(arguments)}")
        output = io.StringIO()
        call_command("seed_demo", *arguments, stdout=output)
        # The demo logins it prints are of no use here; the bulk summary is.
        for line in output.getvalue().splitlines():
            if line.startswith(("Massdata", "  Nya införanden")):
                say(f"    {line.strip()}")


def vacuum_analyze() -> bool:
    """Right after a bulk load PostgreSQL has no statistics and plans badly until autovacuum
    comes by; a production database has them, so the bench measures with them. Then the load's
    pages go to disk (a checkpoint, and the kernel's write-back), so that writing back a fresh
    seed's gigabyte does not overlap the first scenarios, as a database in use has no such
    backlog. False when the database user may not run CHECKPOINT."""
    from django.db import connection

    from jarfalla.bench.reminders import checkpoint

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    checkpointed = checkpoint()
    os.sync()
    return checkpointed


def already_seeded() -> bool:
    from units.models import Municipality

    return (
        Municipality.objects.filter(
            slug__in=["kommun-001", "storstad-001", "smaort-001", "mellanstad-001"]
        ).count()
        == 4
    )


def execute(run: Run) -> int:
    config = run.config
    config.run_dir.mkdir(parents=True, exist_ok=True)
    env = bench_env(config, os.environ)

    with run.phase("PostgreSQL and Redis (jarfalla_bench, Redis 14)"):
        fresh, version = reset_stores(config)
        run.meta["postgresql"] = version
    with run.phase("SMTP sink"):
        count_file = start_sink(run, env)
    with run.phase("Django: migrate and collectstatic"):
        setup_django(env, config)
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
    if fresh or not already_seeded():
        with run.phase("seed_demo: 290 municipalities, 100,000 units"):
            seed()
        with run.phase("VACUUM ANALYZE and CHECKPOINT (as a database in use would be)"):
            if not vacuum_analyze():
                say("  CHECKPOINT refused (needs a superuser or pg_checkpoint): measured anyway")
    with run.phase("bench users, sessions and history"):
        from jarfalla.bench.world import prepare

        world = prepare()
        say(f"data: {world.counts}")

    with run.phase("gunicorn and the Celery worker"):
        web = run.processes.start("gunicorn", gunicorn_argv(config), env=env, cwd=BASE_DIR)
        run.processes.start("celery", celery_argv(), env=env, cwd=BASE_DIR)
        baseline_url = config.site_url + scenarios.BASELINE.path
        procs.wait_until(
            lambda: http_status(baseline_url) == 200, timeout=60, what="gunicorn to answer"
        )
        procs.wait_until(
            lambda: len(procs.children_of(web.pid)) >= config.workers,
            timeout=30,
            what="all gunicorn workers",
        )

    for scenario in scenarios.HTTP_SCENARIOS:
        if not config.wanted(scenario.name):
            continue
        with run.phase(f"{scenario.name}: {scenario.title}"):
            try:
                result = http_scenario(run, scenario, world, web.pid)
            except Exception as error:
                result = Result(scenario.name, scenario.title, target=scenario.target).fail(
                    f"{type(error).__name__}: {error}"
                )
            run.results.append(result)
            say(f"  {report.text_table([result]).splitlines()[-1].strip()}")
    if len(run.results) > 1 and run.results[0].status == report.OK:
        # The baseline again at the end: the ratios use both, and a drift shows the machine's
        # load changed while the pages were measured.
        with run.phase("baseline again"):
            again = http_scenario(run, scenarios.BASELINE, world, web.pid)
            run.results[0] = report.merge_baselines(run.results[0], again)
    web_rss = workers_rss_mb(web.pid)

    pdf_peak = None
    if config.wanted(scenarios.PDF):
        with run.phase("PDF report in the Celery worker"):
            try:
                pdf, pdf_peak = pdf_scenario(run, world)
            except Exception as error:
                pdf = Result(scenarios.PDF, "municipality PDF report", kind="pdf").fail(
                    f"{type(error).__name__}: {error}"
                )
            run.results.append(pdf)
    if config.wanted(scenarios.REMINDERS):
        with run.phase(f"reminder sweep ({config.reminders:,} reminders)"):
            try:
                run.results.append(reminders_scenario(run, count_file))
            except Exception as error:
                run.results.append(
                    Result(scenarios.REMINDERS, "reminder sweep", kind="reminders").fail(
                        f"{type(error).__name__}: {error}"
                    )
                )
    run.results.append(memory_result(run, web_rss, config.workers, pdf_peak))

    run.meta.update(
        world={key: value for key, value in asdict(world).items() if key != "sessions"},
        commands={
            **run.processes.commands,
            "load": " ".join(
                loadgen.wrk_command(
                    config.site_url + "<path>",
                    config.run_dir / "request-<scenario>.txt",
                    connections=config.connections,
                    threads=config.threads,
                    duration=config.duration,
                )
            )
            if run.generator == "wrk"
            else f"python asyncio, {config.connections} connections, {config.duration:g} s",
        },
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    config = make_config(args, stamp)
    check_local(config)
    processes = procs.Processes(config.run_dir)
    procs.exit_on_signals()
    run = Run(config, processes)
    say(f"make bench: logs in {config.run_dir.relative_to(BASE_DIR)}")
    crashed = ""
    try:
        execute(run)
    except KeyboardInterrupt:
        crashed = "interrupted"
    except SystemExit as error:
        crashed = error.code if isinstance(error.code, str) else f"stopped (exit {error.code})"
    except Exception as error:
        crashed = f"{type(error).__name__}: {error}"
        import traceback

        traceback.print_exc()
    finally:
        with run.phase("stopping gunicorn, Celery and the SMTP sink"):
            processes.stop_all()
    return finish(run, started, crashed)


def finish(run: Run, started: dt.datetime, crashed: str) -> int:
    config = run.config
    report.evaluate(run.results)
    finished = dt.datetime.now(dt.UTC)
    code = report.exit_code(run.results)
    if crashed:
        code = report.EXIT_ERRORS
    meta = {
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "duration_s": round((finished - started).total_seconds(), 1),
        "crashed": crashed,
        "phases_s": run.phases,
        "host": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "config": {
            "connections": config.connections,
            "threads": config.threads,
            "duration_s": config.duration,
            "warmup_s": config.warmup,
            "gunicorn_workers": config.workers,
            "reminders": config.reminders,
            "load_generator": run.generator or None,
            "database_url": config.database_url,
            "redis_url": config.redis_url,
        },
        **run.meta,
    }
    document = report.to_json(run.results, meta)
    document["exit_code"] = code
    path = config.out_dir / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    markdown = (
        f"Run of {started.astimezone():%Y-%m-%d %H:%M} ({meta['duration_s']:.0f} s, "
        f"{os.cpu_count()} CPUs, {config.connections} connections, "
        f"{config.duration:g} s per scenario, {run.generator or '-'}):\n\n"
        + report.markdown_table(run.results)
        + "\n\n"
        + "".join(f"- {line}\n" for line in report.notes(run.results))
    )
    if run.results:
        report.write_json(path, document)
        path.with_suffix(".md").write_text(markdown, encoding="utf-8")

    print()
    print(
        f"make bench — {started.astimezone():%Y-%m-%d %H:%M}, {os.cpu_count()} CPUs, "
        f"{config.connections} connections, {config.duration:g} s per scenario "
        f"({run.generator or 'no load generator run'})"
    )
    print()
    print(report.text_table(run.results) if run.results else "(no results)")
    lines = report.notes(run.results)
    if crashed:
        lines.insert(0, f"run: FAILED — {crashed}")
    if lines:
        print()
        print("\n".join(f"  * {line}" for line in lines))
    print()
    if run.results:
        print(f"JSON: {path.relative_to(BASE_DIR)}")
        print(
            f"Markdown for the Results section of docs/performance.md (also in {path.with_suffix('.md').relative_to(BASE_DIR)}):"
        )
        print()
        print(markdown)
    verdicts = {
        report.EXIT_OK: "every target met",
        report.EXIT_ERRORS: "FAILED: errors (see above)",
        report.EXIT_TARGETS: "targets missed or pending",
    }
    say(f"done in {meta['duration_s']:.0f} s: {verdicts[code]} (exit {code})")
    return code
