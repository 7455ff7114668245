"""The command line as a new user meets it: demo, scan, help, and clear errors for bad input."""

from __future__ import annotations

import gzip
import os
import pty
import subprocess
from pathlib import Path

import orjson
import pytest

from cli.sample_feed import sample_posts
from tests.bot_process import bot_command
from tests.conftest import record, write_jsonl

pytestmark = pytest.mark.slow  # every test here runs `bot.py` in a subprocess, as a user would

def test_demo_shows_cards_and_a_digest_without_slack(run_cli) -> None:
    result = run_cli("demo", env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    cards = result.stdout.count("╭─")
    assert cards >= 3
    assert "[ Suspend all ]  [ Limit all ]  [ Require verification ]  [ Dismiss ]  [ Review accounts ]" in result.stdout
    assert "Candidate X is the ONLY one" in result.stdout
    assert "Good morning everyone" not in result.stdout  # organic copies by unrelated old accounts stay quiet
    assert "Chorus digest" in result.stdout and "Waiting for a decision: 3 clusters" in result.stdout
    assert "poll: fetched=" in result.stderr


def test_scan_json_report_matches_the_design(run_cli, tmp_path: Path) -> None:
    feed = write_jsonl(tmp_path / "feed.jsonl", sample_posts())
    result = run_cli("scan", str(feed), "--format", "json")
    assert result.returncode == 0, result.stderr
    report = orjson.loads(result.stdout)
    assert set(report) == {"clusters", "stats"}
    assert report["stats"]["posts"] == len(sample_posts()) and report["stats"]["skipped"] == 0
    clusters = report["clusters"]
    assert len(clusters) == 3
    assert [c["score"] for c in clusters] == sorted((c["score"] for c in clusters), reverse=True)
    for cluster in clusters:
        assert set(cluster) == {"id", "score", "accounts", "posts", "reasons", "sample_text"}
        assert 0 <= cluster["score"] <= 1 and cluster["reasons"]
    accounts = [a for c in clusters for a in c["accounts"]]
    assert len(accounts) == len(set(accounts))  # an account stands in at most one cluster


def test_scan_reads_gzip_and_counts_what_it_skipped(run_cli, tmp_path: Path) -> None:
    lines = [orjson.dumps(r) for r in sample_posts()]
    lines[10:10] = [b"{broken", orjson.dumps({"id": "x1", "text": "no author", "created_at": "2026-02-20T06:00:00Z"})]
    lines.append(lines[0])  # a repeated id
    (tmp_path / "feed.jsonl.gz").write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    result = run_cli("scan", str(tmp_path / "feed.jsonl.gz"), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert orjson.loads(result.stdout)["stats"]["skipped"] == 3
    assert "skipped feed.jsonl.gz:11: not valid JSON" in result.stderr
    assert "skipped feed.jsonl.gz:12: author is missing" in result.stderr
    assert "repeats post id" in result.stderr


def test_scan_text_table(run_cli, tmp_path: Path) -> None:
    feed = write_jsonl(tmp_path / "feed.jsonl", sample_posts())
    result = run_cli("scan", str(feed))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"3 clusters in {len(sample_posts())} posts")
    assert "- 14 accounts posted" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scan", "missing.jsonl"], "chorus: error: missing.jsonl does not exist"),
        (["scan", "feed.jsonl", "--config", "nope.toml"], "chorus: error: config file nope.toml does not exist"),
        (["scan", "feed.jsonl", "--config", "bad.toml"], "chorus: error: bad.toml: source.poll_seconds must be"),
        (["run", "--config", "nodir.toml"], "chorus: error: cannot open database"),
    ],
)
def test_errors_are_one_clear_line_and_exit_2(run_cli, tmp_path: Path, args: list[str], message: str) -> None:
    write_jsonl(tmp_path / "feed.jsonl", [record("p1", "x", "u1")])
    (tmp_path / "bad.toml").write_text("[source]\npoll_seconds = -1\n")
    (tmp_path / "nodir.toml").write_text('[storage]\npath = "no/such/folder/chorus.db"\n'
                                         '[source]\npath = "feed.jsonl"\n')
    result = run_cli(*args)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(message), result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("verb", ["run", "scan", "demo", "digest"])
def test_every_verb_explains_itself(run_cli, verb: str) -> None:
    result = run_cli(verb, "--help")
    assert result.returncode == 0 and "usage: chorus " + verb in result.stdout
    assert len(result.stdout.splitlines()) > 5


def test_digest_reads_the_database(run_cli, tmp_path: Path) -> None:
    demo = run_cli("demo", "--workdir", str(tmp_path / "demo"))
    assert demo.returncode == 0, demo.stderr
    (tmp_path / "chorus.toml").write_text(f'[storage]\npath = "{tmp_path / "demo" / "demo.db"}"\n')
    result = run_cli("digest", "--config", str(tmp_path / "chorus.toml"))
    assert result.returncode == 0, result.stderr
    assert "Flagged: 3 clusters (up from 0 the period before), 30 accounts" in result.stdout


def test_scan_shows_progress_on_a_terminal_only(run_cli, tmp_path: Path) -> None:
    feed = write_jsonl(tmp_path / "feed.jsonl", [record(f"p{i}", f"post {i}", f"u{i}") for i in range(30000)])
    primary, secondary = pty.openpty()
    bot = subprocess.Popen(bot_command("scan", str(feed)), stdout=subprocess.DEVNULL, stderr=secondary)
    os.close(secondary)
    shown = b""
    while chunk := _read(primary):
        shown += chunk
    assert bot.wait(timeout=60) == 0
    assert b"\rread 10,000 posts (0 skipped)" in shown
    piped = run_cli("scan", str(feed))
    assert "read 10,000 posts" not in piped.stderr


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except OSError:  # the other end closed
        return b""
