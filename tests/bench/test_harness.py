"""The pure parts of `make bench` (jarfalla/bench): refusal to leave 127.0.0.1, the ratios and
target checks, the table and the JSON record, wrk's output, the SMTP sink's framing. No timings."""

import asyncio
import concurrent.futures
import json
from pathlib import Path

import pytest

from jarfalla.bench import loadgen, report, run, safety, scenarios
from jarfalla.bench.report import Check, Result
from jarfalla.bench.scenarios import Target
from jarfalla.bench.smtpsink import read_data

# --- 127.0.0.1 only --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8000/",
        "http://10.0.0.5:8000/",
        "http://[::1]:8000/",
        "http://127.0.0.2/",
        "http://example.se/",
        "http://127.0.0.1.example.se/",
        "not a url",
    ],
)
def test_refuses_targets_other_than_127_0_0_1(url: str) -> None:
    with pytest.raises(safety.NotLocalError, match=r"127\.0\.0\.1"):
        safety.require_local("target URL", url)


def test_accepts_127_0_0_1_with_any_port() -> None:
    safety.require_local("target URL", "http://127.0.0.1:41234/dashboard/1/")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("postgres://postgres@db.example.se:5432/jarfalla_bench", "127.0.0.1"),
        ("postgres://postgres@localhost:5432/jarfalla_bench", "127.0.0.1"),
        ("postgres://postgres@127.0.0.1:5432/jarfalla", "_bench"),
        ("sqlite://127.0.0.1/jarfalla_bench", "PostgreSQL"),
    ],
)
def test_refuses_databases_that_are_not_local_bench_databases(url: str, problem: str) -> None:
    with pytest.raises(safety.NotLocalError, match=problem):
        safety.require_bench_database(url)


def test_the_default_database_and_redis_are_accepted() -> None:
    assert safety.require_bench_database(run.DEFAULT_DATABASE_URL) == "jarfalla_bench"
    assert safety.require_bench_redis(run.DEFAULT_REDIS_URL) == 14


@pytest.mark.parametrize(
    "url",
    ["redis://10.1.2.3:6379/14", "redis://localhost:6379/14", "redis://127.0.0.1:6379/0"],
)
def test_refuses_redis_that_is_not_local_or_is_database_0(url: str) -> None:
    with pytest.raises(safety.NotLocalError):
        safety.require_bench_redis(url)


def _config(**changes: object) -> run.Config:
    config = run.make_config(run.parse_args([]), "test")
    for key, value in changes.items():
        setattr(config, key, value)
    return config


def test_the_run_is_refused_before_anything_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_DATABASE_URL", "postgres://postgres@192.168.1.10/jarfalla_bench")
    config = run.make_config(run.parse_args([]), "test")

    with pytest.raises(safety.NotLocalError, match="DATABASE_URL"):
        run.check_local(config)


def test_bench_environment_drops_the_callers_settings() -> None:
    caller = {
        "PATH": "/usr/bin",
        "DATABASE_URL": "postgres://prod.example.se/jarfalla",
        "SECRET_KEY_FILE": "/run/secrets/secret_key",
        "EMAIL_HOST": "smtp.example.se",
        "REDIS_URL": "redis://prod.example.se:6379/0",
    }

    env = run.bench_env(_config(port=4321, smtp_port=2525), caller)

    assert env["PATH"] == "/usr/bin"
    assert env["DATABASE_URL"] == run.DEFAULT_DATABASE_URL
    assert env["REDIS_URL"] == run.DEFAULT_REDIS_URL
    assert "SECRET_KEY_FILE" not in env
    assert "EMAIL_HOST" not in env
    assert env["EMAIL_URL"] == "smtp://127.0.0.1:2525"
    assert env["SITE_URL"] == "http://127.0.0.1:4321"
    assert env["ALLOWED_HOSTS"] == "127.0.0.1"
    assert env["DEBUG"] == "false"
    assert env["BENCH"] == "1"
    assert len(env["SECRET_KEY"]) >= 50


# --- Ratios, targets, exit code ----------------------------------------------------------------


def _baseline(**fields: object) -> Result:
    return Result(name="baseline", title="baseline", **fields)  # type: ignore[arg-type]


def test_ratio_is_requests_per_second_against_the_baseline() -> None:
    baseline = _baseline(rate=400.0, p99_ms=50.0)
    page = Result("dashboard", "dashboard", rate=120.0, p99_ms=180.0, target=Target(0.25, 4.0))

    report.evaluate([baseline, page])

    assert page.ratio == pytest.approx(0.3)
    assert [(c.description, c.ok) for c in page.checks] == [
        ("no non-2xx/3xx answers", True),
        ("req/s >= 0.25x baseline", True),
        ("p99 <= 4x baseline p99", True),
    ]
    assert report.exit_code([baseline, page]) == report.EXIT_OK


def test_a_missed_target_exits_2_and_is_named() -> None:
    baseline = _baseline(rate=400.0, p99_ms=50.0)
    page = Result("dashboard", "dashboard", rate=40.0, p99_ms=400.0, target=Target(0.25, 4.0))

    report.evaluate([baseline, page])

    assert page.ratio == pytest.approx(0.1)
    assert [c.ok for c in page.checks] == [True, False, False]
    assert report.verdict(page) == "MISSED"
    assert report.exit_code([baseline, page]) == report.EXIT_TARGETS
    assert "dashboard: MISSED req/s >= 0.25x baseline (0.10x)" in report.notes([page])


def test_any_non_2xx_3xx_answer_fails_the_run() -> None:
    baseline = _baseline(rate=400.0, p99_ms=50.0)
    page = Result(
        "step1_post",
        "post",
        rate=300.0,
        errors={"non_2xx_3xx": 1, "unexpected": 0, "socket": 0},
        statuses={"302": 999, "500": 1},
        target=Target(min_rps_ratio=0.15),
    )

    report.evaluate([baseline, page])

    assert report.exit_code([baseline, page]) == report.EXIT_ERRORS
    assert report.verdict(page).startswith("FAILED")
    assert any("500: 1" in line for line in report.notes([page]))


def test_a_scenario_that_could_not_run_fails_and_pending_exits_2() -> None:
    baseline = _baseline(rate=400.0, p99_ms=50.0)
    missing = Result("regional", "regional").fail("GET /regional/ answered 404 before the load")
    pending = Result(
        "pdf", "pdf", kind="pdf", status=report.PENDING, target=Target(max_time_ratio=1.2)
    )

    report.evaluate([baseline, pending])
    assert report.exit_code([baseline, pending]) == report.EXIT_TARGETS
    assert pending.checks == [Check("time <= 1.2x reference", None, "-")]

    report.evaluate([baseline, missing, pending])
    assert report.exit_code([baseline, missing, pending]) == report.EXIT_ERRORS


def test_time_based_ratio_is_product_time_over_reference_time() -> None:
    sweep = Result(
        "reminders",
        "sweep",
        kind="reminders",
        seconds=150.0,
        reference_seconds=100.0,
        target=Target(max_time_ratio=1.5),
    )

    report.evaluate([_baseline(rate=400.0), sweep])

    assert sweep.ratio == pytest.approx(1.5)
    assert sweep.checks[-1].ok is True


def test_query_constancy_compares_the_two_sizes() -> None:
    baseline = _baseline(rate=400.0, p99_ms=50.0)
    same = Result(
        "dashboard",
        "d",
        rate=200.0,
        queries=22,
        queries_compare=22,
        target=Target(queries_constant=True),
    )
    grows = Result(
        "dashboard",
        "d",
        rate=200.0,
        queries=95,
        queries_compare=22,
        target=Target(queries_constant=True),
    )

    report.evaluate([baseline, same, grows])

    assert same.checks[-1].ok is True
    assert grows.checks[-1].ok is False


def test_p50_target_is_absolute() -> None:
    regional = Result("regional", "r", rate=10.0, p50_ms=140.0, target=Target(max_p50_ms=100))

    report.evaluate([_baseline(rate=400.0), regional])

    assert regional.checks[-1] == Check("p50 <= 100 ms", False, "140.0 ms")


# --- Table and JSON -----------------------------------------------------------------------------


def _results() -> list[Result]:
    results = [
        _baseline(rate=412.3, p50_ms=45.1, p99_ms=98.7, queries=0, memory_mb=80.2, requests=4948),
        Result(
            "dashboard",
            "coordinator dashboard, 2,000 units",
            rate=150.0,
            p50_ms=120.0,
            p99_ms=300.0,
            queries=22,
            queries_compare=22,
            memory_mb=98.0,
            target=Target(0.25, 4.0, queries_constant=True),
        ),
        Result("pdf", "municipality PDF report", kind="pdf", status=report.PENDING),
    ]
    report.evaluate(results)
    return results


def test_text_table_has_one_aligned_row_per_scenario() -> None:
    lines = report.text_table(_results()).splitlines()

    assert lines[0].split()[:4] == ["scenario", "req/s", "p50", "ms"]
    assert len(lines) == 2 + 3
    assert set(lines[1]) == {"-", " "}
    # Columns line up: every header starts where its rule starts.
    starts = [
        i for i, char in enumerate(lines[1]) if char == "-" and (i == 0 or lines[1][i - 1] == " ")
    ]
    assert [lines[0][i - 1 : i] in ("", " ") for i in starts] == [True] * len(starts)
    assert "412.3" in lines[2]
    assert "22 (22 @20)" in lines[3]
    assert "0.36x" in lines[3]
    assert lines[4].rstrip().endswith("pending")


def test_markdown_table_is_a_table() -> None:
    lines = report.markdown_table(_results()).splitlines()

    assert lines[0].startswith("| scenario | req/s |")
    assert set(lines[1]) <= set("|-: ")
    assert all(line.startswith("| ") and line.endswith(" |") for line in lines)
    assert len({line.count("|") for line in lines}) == 1


def test_json_record_shape(tmp_path: Path) -> None:
    results = _results()
    document = report.to_json(results, {"started_at": "2026-11-27T12:00:00+00:00"})
    path = tmp_path / "bench" / "20261127T120000Z.json"

    report.write_json(path, document)
    loaded = json.loads(path.read_text(encoding="utf-8"))

    assert loaded["version"] == report.JSON_VERSION
    assert loaded["started_at"] == "2026-11-27T12:00:00+00:00"
    assert loaded["exit_code"] == report.EXIT_TARGETS
    assert [s["name"] for s in loaded["scenarios"]] == ["baseline", "dashboard", "pdf"]
    dashboard = loaded["scenarios"][1]
    for key in ("rate", "p50_ms", "p99_ms", "queries", "queries_compare", "memory_mb", "ratio"):
        assert key in dashboard
    assert dashboard["ratio"] == pytest.approx(150.0 / 412.3)
    assert dashboard["target"]["min_rps_ratio"] == 0.25
    assert (
        dashboard["target"]["description"] == "req/s >= 0.25x, p99 <= 4x, queries 20 = 2,000 units"
    )
    assert {c["description"] for c in dashboard["checks"]} >= {
        "queries equal at 20 and 2,000 units"
    }
    assert dashboard["verdict"] == "ok"
    assert loaded["scenarios"][2]["verdict"] == "pending"


# --- Scenarios ---------------------------------------------------------------------------------


def test_scenarios_have_unique_names_and_the_baseline_first() -> None:
    names = scenarios.scenario_names()

    assert len(names) == len(set(names))
    assert scenarios.HTTP_SCENARIOS[0] is scenarios.BASELINE
    placeholders = {
        "municipality": "1",
        "small_municipality": "2",
        "report_municipality": "3",
        "sector": "4",
        "workspace_unit": "5",
        "manager_unit": "6",
        "today": "2026-11-27",
    }
    for scenario in scenarios.HTTP_SCENARIOS:
        assert scenario.path.format(**placeholders).startswith("/")
        for _name, value in scenario.form:
            value.format(**placeholders)


def test_scale_adds_up_to_the_national_set() -> None:
    exact = scenarios.BIG_UNITS + scenarios.SMALL_UNITS + scenarios.REPORT_UNITS
    assert exact < scenarios.NATIONAL_UNITS
    assert (scenarios.BIG_UNITS, scenarios.SMALL_UNITS, scenarios.REPORT_UNITS) == (2000, 20, 345)


# --- Load generator output ---------------------------------------------------------------------


WRK_OUTPUT = """Running 12s test @ http://127.0.0.1:4321/bench/baseline/
  2 threads and 20 connections
Requests/sec:    412.30
BENCH_RESULT {"duration_us": 12000000, "requests": 4948, "bytes": 100, "errors": {"connect": 0, "read": 2, "write": 0, "status": 3, "timeout": 1}, "latency_us": {"p50": 45100, "p90": 80000, "p99": 98700, "mean": 47000.5, "max": 150000}, "statuses": {"200": 4940, "302": 5, "500": 3}}
"""


def test_parses_the_lua_report_line() -> None:
    result = loadgen.parse_wrk_output(WRK_OUTPUT)

    assert result.requests == 4948
    assert result.rate == pytest.approx(4948 / 12)
    assert result.p50_ms == pytest.approx(45.1)
    assert result.p99_ms == pytest.approx(98.7)
    assert result.statuses == {200: 4940, 302: 5, 500: 3}
    assert result.errors(expect=(200,)) == {"non_2xx_3xx": 3, "unexpected": 5, "socket": 3}
    assert result.errors(expect=(200, 302))["unexpected"] == 0


def test_missing_report_line_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="BENCH_RESULT"):
        loadgen.parse_wrk_output("unable to connect to 127.0.0.1:4321 Connection refused\n")


def test_request_file_for_the_lua_script() -> None:
    spec = loadgen.request_spec(
        "POST", {"Cookie": "sessionid=abc; csrftoken=def", "Content-Type": "x"}, "a=1&b=2"
    )

    assert spec == "POST\nCookie: sessionid=abc; csrftoken=def\nContent-Type: x\n\na=1&b=2"
    assert loadgen.request_spec("GET", {}, "") == "GET\n\n"


def test_wrk_command_is_bounded_in_time_and_uses_the_script() -> None:
    command = loadgen.wrk_command(
        "http://127.0.0.1:4321/",
        Path("request-baseline.txt"),
        connections=20,
        threads=2,
        duration=12,
    )

    assert "--connections=20" in command
    assert "--threads=2" in command
    assert "--duration=12s" in command
    assert f"--script={loadgen.LUA_SCRIPT}" in command
    assert command[-2:] == ["--", "request-baseline.txt"]


def test_percentile_of_the_fallback() -> None:
    values = [float(n) for n in range(1, 101)]

    assert loadgen.percentile(values, 50) == 50.0
    assert loadgen.percentile(values, 99) == 99.0
    assert loadgen.percentile([], 50) is None


# --- SMTP sink framing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "rest"),
    [
        (b"Subject: x\r\n\r\nhello.\r\n..\r\nend\r\n.\r\nQUIT\r\n", b"QUIT\r\n"),
        (b".\r\nQUIT\r\n", b"QUIT\r\n"),
        (b"Subject: x\r\n.\r\nNOOP\r\n", b"NOOP\r\n"),
    ],
)
def test_sink_reads_a_message_up_to_the_lone_dot(data: bytes, rest: bytes) -> None:
    async def feed() -> tuple[bytes, bytes]:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        message = await read_data(reader)
        return message, await reader.read()

    # In a thread of its own: after the browser tests the main thread may hold Playwright's loop.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        message, remaining = pool.submit(asyncio.run, feed()).result()

    assert message + remaining == data
    assert remaining == rest


def test_baseline_is_the_mean_of_the_runs_before_and_after_the_pages() -> None:
    start = _baseline(rate=400.0, p50_ms=10.0, p99_ms=20.0, requests=4000, statuses={"200": 4000})
    end = _baseline(rate=300.0, p50_ms=14.0, p99_ms=30.0, requests=3000, statuses={"200": 3000})

    merged = report.merge_baselines(start, end)

    assert merged.rate == pytest.approx(350.0)
    assert merged.p99_ms == pytest.approx(25.0)
    assert merged.requests == 7000
    assert merged.statuses == {"200": 7000}
    assert [run["rate"] for run in merged.extra["runs"]] == [400.0, 300.0]
    assert "doubtful" not in merged.note


def test_a_drifting_baseline_is_flagged() -> None:
    merged = report.merge_baselines(_baseline(rate=1400.0), _baseline(rate=350.0))

    assert "doubtful" in merged.note


# --- The reminder sweep's checkpoint ------------------------------------------------------------


@pytest.mark.django_db
def test_the_sweep_checkpoints_first_when_the_database_lets_it() -> None:
    from django.db import connection

    from jarfalla.bench import reminders

    # PostgreSQL 17 moved the counter to pg_stat_checkpointer.
    requested = (
        "SELECT num_requested FROM pg_stat_checkpointer"
        if connection.pg_version >= 170000  # type: ignore[attr-defined]
        else "SELECT checkpoints_req FROM pg_stat_bgwriter"
    )
    with connection.cursor() as cursor:
        cursor.execute(requested)
        (before,) = cursor.fetchone()
        assert reminders.checkpoint()
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(requested)
        assert cursor.fetchone()[0] > before
        # A database user without the right (neither superuser nor pg_checkpoint) is told no.
        cursor.execute("CREATE ROLE bench_without_checkpoint")
        cursor.execute("SET LOCAL ROLE bench_without_checkpoint")
        assert not reminders.checkpoint()
