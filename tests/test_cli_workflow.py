"""The command line's workflow details: export formats and stale files, honest hints, bars."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from iqualify_async import RetryPolicy
from iqualify_async.bulk import Progress
from iqualify_async.cli import cli
from iqualify_async.cli.app import report
from iqualify_async.cli.output import Output, plural
from iqualify_async.cli.report import show_summaries
from iqualify_async.cli.state import State
from iqualify_async.testing import FakeIQualify, Faults

from ._fake_thread import fake_in_thread
from .conftest import THREAD_KEY as KEY


@pytest.fixture
def fake(module_threaded_fake: FakeIQualify) -> FakeIQualify:
    return module_threaded_fake


def run(fake: FakeIQualify, *args: str) -> tuple[int, str, str]:
    env = {"IQUALIFY_API_KEY": KEY, "IQUALIFY_BASE_URL": fake.base_url}
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_export_to_parquet_then_csv_warns_about_the_earlier_files(
    fake: FakeIQualify, tmp_path: Path
) -> None:
    pytest.importorskip("pyarrow")
    offering = sorted(fake.state.offerings)[0]
    args = (
        "export-analytics",
        "--offering",
        offering,
        "--kind",
        "quiz-marks",
        "--out",
        str(tmp_path),
    )
    code, out, err = run(fake, *args, "--format", "parquet", "--json")
    assert code == 0, err
    assert json.loads(out)["files"]["quiz-marks"]["path"] == str(tmp_path / "quiz-marks.parquet")
    code, out, err = run(fake, *args, "--format", "csv")
    assert code == 0, err
    assert (
        "warning: files from an earlier export, not written by this one: quiz-marks.parquet" in err
    )
    assert "quiz-marks.csv" in out and "quiz-marks.parquet" not in out
    code, out, err = run(fake, *args, "--format", "csv", "--json")
    assert json.loads(out)["stale"] == [str(tmp_path / "quiz-marks.parquet")]


def test_export_of_a_missing_offering_is_one_line(fake: FakeIQualify, tmp_path: Path) -> None:
    code, out, err = run(fake, "export-analytics", "--offering", "NOPE", "--out", str(tmp_path))
    assert (code, out, err) == (2, "", "error: offering 'NOPE' not found\n")


def test_the_interrupt_hint_promises_a_resume_only_with_a_journal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert report(KeyboardInterrupt(), State()) == 130
    assert capsys.readouterr().err == "error: interrupted\n"


def test_a_bar_stops_where_the_work_stopped() -> None:
    output = Output(State())
    output.console = Console(file=io.StringIO(), force_terminal=True, width=60)
    with output.jobs() as bars:
        on_progress = bars.track("enrol", 10)
        stopped = Progress(
            total=10, done=10, succeeded=3, skipped=0, failed=0, unprocessed=7, in_flight=0,
            elapsed=1.0, rate=3.0, eta=None, finished=True,
        )  # fmt: skip
        on_progress(stopped)
        [task] = bars.progress.tasks
    assert (task.completed, task.total) == (3, 10)


@pytest.mark.parametrize(("n", "text"), [(1, "1 person"), (2, "2 people"), (1000, "1,000 people")])
def test_counts_are_pluralised(n: int, text: str) -> None:
    assert plural(n, "person", "people") == text


def test_a_closed_pipe_ends_quietly_with_exit_0() -> None:
    command = (
        f"{sys.executable} -c 'from iqualify_async.cli import main; main()' endpoints | head -1"
    )
    for _ in range(3):
        done = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=60
        )
        assert (done.returncode, done.stderr) == (0, "")
        assert done.stdout.count("\n") == 1


def test_max_retries_help_says_the_real_default() -> None:
    result = CliRunner().invoke(cli, ["call", "--help"])
    text = " ".join(CliRunner().invoke(cli, ["enrol", "--help"]).stdout.split())
    assert result.exit_code == 0
    assert f"(default {RetryPolicy().max_retries})" in text


def test_an_insecure_url_hint_names_the_option_that_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # where the default ledger would go
    people = tmp_path / "p.csv"
    people.write_text("email\na@example.org\n")
    env = {"IQUALIFY_API_KEY": KEY, "IQUALIFY_BASE_URL": "http://api.example.org/v1"}
    result = CliRunner().invoke(cli, ["enrol", "--offering", "O", str(people)], env=env)
    assert result.exit_code == 2 and "--allow-insecure-http" in result.stderr
    assert "allow_insecure_http=True" not in result.stderr
    assert sorted(tmp_path.iterdir()) == [people]  # the default ledger was not left behind
    state = State(api_key=KEY, allow_insecure_http=True)
    assert state.client_kwargs()["allow_insecure_http"] is True


def test_narrow_terminals_get_whole_words() -> None:
    output = Output(State())
    buffer = io.StringIO()
    output.console = Console(file=buffer, width=60, force_terminal=True, color_system=None)
    show_summaries(output, [("enrol", 1000, 990, 5, 3, 2, 12.34, 81.0)])
    lines = buffer.getvalue().splitlines()
    assert all(len(line.rstrip()) <= 60 for line in lines)
    for word in ("succeeded", "skipped", "unprocessed", "items/s", "1,000"):
        assert any(word in line for line in lines), word


def test_a_spreadsheet_export_is_read_with_warnings_or_refused_when_strict(
    fake: FakeIQualify, tmp_path: Path
) -> None:
    people = tmp_path / "people.csv"
    people.write_bytes(
        "Email;First Name;Department\r\nzoë.w@example.org;Zoë;Maths\r\n".encode("cp1252")
    )
    offering = sorted(fake.state.offerings)[0]
    args = ("enrol", "--offering", offering, str(people), "--dry-run")
    code, out, err = run(fake, *args)
    assert code == 0, err
    assert f"warning: {people} is not UTF-8: read it as cp1252 (Windows)" in err
    assert "warning: column(s) 'Department' are not sent to the API" in err
    assert "Checking 1 person into 1 offering as learner: 1 enrolment" in out
    code, out, err = run(fake, *args, "--encoding", "cp1252", "--strict-columns")
    assert (code, out) == (2, "") and "unknown column(s) 'Department'" in err
    code, out, err = run(fake, *args, "--outcomes", "failed")
    assert code == 2 and "--outcomes applies to a ledger" in err
    code, out, err = run(fake, *args, "--outcomes", "done")
    assert code == 2 and "--outcomes: unknown outcome(s) done" in err
    assert sum(fake.stats.writes.values()) == 0


def test_the_cause_most_failures_share_is_said_once() -> None:
    from iqualify_async.bulk import ErrorInfo, Outcome, Status
    from iqualify_async.cli.people_job import Tally, Would, cause_line

    def failed(n: int, status: int, name: str, message: str) -> Outcome[str, str]:
        error = ErrorInfo("PermissionDeniedError", message, status, name)
        return Outcome(n, f"k{n}", f"p{n}", Status.FAILED, error=error)

    tally = Tally(Would([], "skip"))
    for n in range(1000):
        tally.count(failed(n, 403, "AccessDeniedError", "You are not allowed"))
    tally.count(failed(1000, 400, "SchemaValidationError", "bad email"))
    cause = tally.common_cause()
    assert cause is not None
    assert cause_line(cause) == "1,000 failed: 403 AccessDeniedError: You are not allowed"
    split = Tally(Would([], "skip"))
    split.count(failed(0, 403, "AccessDeniedError", "no"))
    split.count(failed(1, 400, "SchemaValidationError", "bad"))
    assert split.common_cause() is None


def test_an_interrupted_export_says_so_in_json_and_promises_no_resume(tmp_path: Path) -> None:
    with fake_in_thread(api_key=KEY, seed="demo", faults=Faults(latency_ms=50)) as fake:
        command = [
            sys.executable, "-c", "from iqualify_async.cli import main; main()",
            "export-analytics", "--all", "--out", str(tmp_path / "out"), "--concurrency", "1",
            "--json",
        ]  # fmt: skip
        env = {**os.environ, "IQUALIFY_API_KEY": KEY, "IQUALIFY_BASE_URL": fake.base_url}
        child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 30
            while fake.stats.total_requests < 5 and child.poll() is None:
                assert time.monotonic() < deadline, "the export did not start"
                time.sleep(0.01)
            child.send_signal(signal.SIGINT)
            out, err = child.communicate(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
    assert child.returncode == 130
    assert err.decode().endswith("error: interrupted\n")
    assert json.loads(out)["interrupted"] is True


def test_export_with_a_wrong_key_is_one_line(fake: FakeIQualify, tmp_path: Path) -> None:
    env = {"IQUALIFY_API_KEY": "wrong-key-0123456789", "IQUALIFY_BASE_URL": fake.base_url}
    result = CliRunner().invoke(cli, ["export-analytics", "--all", "--out", str(tmp_path)], env=env)
    assert result.exit_code == 2 and result.stderr.startswith("error: the API key was refused")
    assert list(tmp_path.iterdir()) == []


async def test_the_common_cause_of_real_api_errors_says_status_and_name_once(
    fake: FakeIQualify,
) -> None:
    from iqualify_async import APIError, Client
    from iqualify_async.bulk import ErrorInfo, Outcome, Status
    from iqualify_async.cli.people_job import Tally, Would, cause_line

    async with Client(api_key=KEY, base_url=fake.base_url) as iq:
        with pytest.raises(APIError) as failed:
            await iq.request("GET", "/offerings/" + "0" * 24)
    error = ErrorInfo.from_exception(failed.value)
    tally = Tally(Would([], "skip"))
    for n in range(2):
        tally.count(Outcome(n, f"k{n}", f"p{n}", Status.FAILED, error=error))
    cause = tally.common_cause()
    assert cause is not None
    line = cause_line(cause)
    head = f"2 failed: {failed.value.status} {failed.value.name}: "
    assert line == head + str(failed.value.details)
    assert line.count(str(failed.value.status)) == 1 and line.count(str(failed.value.name)) == 1


@pytest.mark.parametrize("width", [60, 80])
def test_a_narrow_terminal_shows_the_table_title_once(width: int) -> None:
    from iqualify_async.cli.commands.endpoints import ENDPOINTS

    output = Output(State())
    buffer = io.StringIO()
    output.console = Console(file=buffer, width=width, force_terminal=True, color_system=None)
    rows = [(e.method, e.path, e.attr, e.summary) for e in ENDPOINTS]
    output.table(f"{len(rows)} operations", ["method", "path", "Python name", "summary"], rows)
    text = buffer.getvalue()
    assert text.count("operations") == 1 and text.startswith(f"{len(rows)} operations")
    assert all(e.attr in text for e in ENDPOINTS)
    assert max(len(line) for line in text.splitlines()) <= width


def test_piped_endpoints_are_one_table_whose_summaries_wrap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from iqualify_async.cli.commands.endpoints import OPERATIONS

    monkeypatch.delenv("COLUMNS", raising=False)
    result = CliRunner().invoke(cli, ["endpoints"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"{len(OPERATIONS)} operations" and result.stdout.count("operations") == 1
    assert lines[1].split() == ["method", "path", "Python", "name", "summary"]
    for endpoint in OPERATIONS:  # one row per operation, its identifiers on one line
        assert any(
            line.split()[:3] == [endpoint.method, endpoint.path, endpoint.attr] for line in lines
        ), endpoint.attr


def test_no_create_failures_give_a_hint_in_command_line_terms(
    fake: FakeIQualify, tmp_path: Path
) -> None:
    people = tmp_path / "people.csv"
    people.write_text("email\nnew.one@example.org\nnew.two@example.org\n")
    offering = sorted(fake.state.offerings)[0]
    code, out, err = run(
        fake, "enrol", "--offering", offering, str(people), "--no-create",
        "--ledger", str(tmp_path / "l.csv"),
    )  # fmt: skip
    assert code == 1, err
    assert "2 failed: LookupError: no user new.one@example.org; run without --no-create" in out
    assert "create_missing_users" not in out + err
