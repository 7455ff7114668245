"""The jobs `run` schedules beside the poll."""

from __future__ import annotations

import io
from pathlib import Path

from cli.console import ConsoleNotifier
from domain.records import parse_post
from service.config import load_config
from service.wiring import housekeeping_jobs
from storage import Store
from tests.conftest import record


def test_a_checkpoint_job_copies_what_polls_committed_into_the_database_file(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "chorus.db")
    jobs = {job.id: job for job in housekeeping_jobs(load_config(None, env={}), store, ConsoleNotifier(io.StringIO()))}
    store.ingest("jsonl", [parse_post(record(f"p{i}", "a post " * 50, f"a{i}")) for i in range(300)], "c1")
    size_before = (tmp_path / "chorus.db").stat().st_size
    assert jobs["checkpoint"].run() == 0
    assert (tmp_path / "chorus.db").stat().st_size > size_before
