"""The decision benchmark runs end to end with tiny counts and prints its figures. Nothing here
asserts a timing: the figures only have to be there and add up."""

import os
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NUMBER = r"(\d[\d,]*\.?\d*)"


def bench_database_url():
    """A database of its own beside the test database, so parallel runs never share one."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return "postgres://postgres@127.0.0.1:5432/credit_bench"
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_bench"))


def figures(pattern, output):
    match = re.search(pattern, output)
    assert match, f"{pattern!r} not in:\n{output}"
    return [float(group.replace(",", "")) for group in match.groups()]


def test_the_decision_benchmark_prints_its_figures():
    env = {**os.environ, "DATABASE_URL": bench_database_url()}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run = subprocess.run(
        [sys.executable, "benchmarks/decision.py", "--decisions", "12", "--warmup", "3",
         "--batch-rows", "20000", "--contribution-rows", "200"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=280)
    output = run.stdout
    assert run.returncode == 0, run.stderr[-3000:]

    assert "12 decisions after 3 warm-up" in output
    for label in ("POST /apply/ until its redirect", r"POST /bench/insert/ \(one INSERT\)",
                  r"server's decision time \(elapsed_ms\)"):
        median, p99 = figures(label + rf"\s+{NUMBER}\s+{NUMBER}", output)
        assert 0 < median <= p99, label
    approved, declined = figures(rf"outcomes: {NUMBER} approved, {NUMBER} declined", output)
    assert approved + declined == 12
    assert re.search(r"Targets: p99 < 15 ms: (met|NOT met) .*within 3x of the one-INSERT "
                     r"view: (met|NOT met)", output)

    assert "Batch scoring: 20,000 rows" in output
    for label in (r"risk.scoring.score_batch, \d+ threads, no contributions",
                  r"booster.inplace_predict, 2 threads \(baseline\)",
                  r"approximate contributions, 200 rows \(score_batch\)",
                  r"exact contributions, 200 rows \(pred_contribs\)"):
        [rate] = figures(label + rf"\s+{NUMBER} rows/s", output)
        assert rate > 0, label


def test_the_checkout_benchmark_prints_its_figures():
    env = {**os.environ, "DATABASE_URL": bench_database_url()}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run = subprocess.run(
        [sys.executable, "benchmarks/checkout.py", "--confirmations", "12", "--warmup", "3"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=280)
    output = run.stdout
    assert run.returncode == 0, run.stderr[-3000:]

    assert "12 confirmations after 3 warm-up" in output
    for label in (r"POST /checkout/<token>/confirm/ \(redirect\)",
                  r"POST /bench/insert/ \(one INSERT\)"):
        median, p99 = figures(label + rf"\s+{NUMBER}\s+{NUMBER}", output)
        assert 0 < median <= p99, label
    [purchases] = figures(rf"purchases booked: {NUMBER}", output)
    assert purchases == 15  # every confirmation, the warm-up ones too, booked one purchase
    assert re.search(r"Target: within 2x of the one-INSERT view: (met|NOT met) ", output)


@pytest.mark.slow  # a minute: run with `make test PYTEST_ARGS="-m slow"`
def test_the_close_benchmark_prints_its_figures():
    """A tiny book (1,000 customers) built, closed through real workers (2 processes) beside
    its floor, and every target printed with its verdict (the 1-worker close is left out to
    keep the suite short: its target line then says how to measure it)."""
    parts = urllib.parse.urlsplit(bench_database_url())
    database = urllib.parse.urlunsplit(parts._replace(path=parts.path + "_close"))
    redis = urllib.parse.urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    env = {**os.environ}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run = subprocess.run(
        [sys.executable, "benchmarks/close.py", "--accounts", "1000", "--workers", "2",
         "--database-url", database,
         "--redis-url", urllib.parse.urlunsplit(redis._replace(path="/8"))],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=280)
    output = run.stdout
    assert run.returncode == 0, output[-3000:] + run.stderr[-3000:]

    assert re.search(r"Load average at start: [\d.]+/", output)
    assert re.search(r"Load average at end: [\d.]+/", output)
    for step in ("accrue_interest_due", "mark_overdue", "accrue_penalty", "set_days_past_due",
                 "cut_statements", "set_statements_past_due"):
        rows, two, _x2, floor_rows, floor_s, _chunks = figures(
            rf"\n{step}" + rf"\s+{NUMBER}" * 6, output)
        # Every step has work on this book, and the close and the floor did the same work.
        assert rows > 0 and rows == floor_rows, step
        assert min(two, floor_s) >= 0, step
    for target in (r"overdue steps together under 30 s", r"whole close under 2 minutes",
                   r"each step within 2x of its floor", r"the book doubled costs at most 2\.2x",
                   r"2 workers faster than 1", r"recorded step times include the commit"):
        assert re.search(rf"Target: {target}.*: (met|not met) \(", output), target
