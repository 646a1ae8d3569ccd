"""``iqualify enrol``, ``export-analytics`` and ``demo`` through their real entry points."""

from __future__ import annotations

import csv
import json
import os
import pty
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from iqualify_async.cli import cli
from iqualify_async.testing import FakeIQualify, Faults

from ._fake_thread import fake_in_thread
from .conftest import THREAD_KEY

KEY = THREAD_KEY


@pytest.fixture
def fake(threaded_fake: FakeIQualify) -> FakeIQualify:
    return threaded_fake


def run(fake: FakeIQualify, *args: str) -> tuple[int, str, str]:
    env = {"IQUALIFY_API_KEY": KEY, "IQUALIFY_BASE_URL": fake.base_url}
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def current_offerings(fake: FakeIQualify) -> list[str]:
    now = fake.state.clock()
    return sorted(o.id for o in fake.state.offerings.values() if o.timing(now) == "current")


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


GOOD = (
    "EMAIL,FirstName,lastname,personId,Tags\n"
    "ana.new@example.org,Ana,New,P-1,red;blue\n"
    "ben.new@example.org,Ben,New,,\n"
    "cat.new@example.org\n"
)


def test_enrol_good_csv_enrols_everyone_and_writes_the_ledger(
    fake: FakeIQualify, tmp_path: Path
) -> None:
    offerings = current_offerings(fake)[:2]
    people = write_csv(tmp_path / "people.csv", GOOD)
    ledger = tmp_path / "out.csv"
    code, out, err = run(
        fake,
        "enrol",
        "--offering",
        offerings[0],
        "--offering",
        offerings[1],
        str(people),
        "--ledger",
        str(ledger),
    )
    assert code == 0, err
    assert "Enrolling 3 people into 2 offerings as learner: 6 enrolments" in out
    assert re.search(r"enrol\s+6\s+6\s+0\s+0\s+0", out)
    for offering_id in offerings:
        enrolments = fake.state.offering(offering_id).enrolments
        assert {"ana.new@example.org", "ben.new@example.org", "cat.new@example.org"} <= set(
            enrolments
        )
    assert fake.state.user("ana.new@example.org").tags == ["red", "blue"]
    rows = list(csv.DictReader(ledger.open()))
    assert len(rows) == 6 and {r["outcome"] for r in rows} == {"succeeded"}
    # A second run finds everyone enrolled: skipped, not failed, nothing written.
    writes = sum(fake.stats.writes.values())
    code, out, _ = run(
        fake, "enrol", "--offering", offerings[0], str(people), "--ledger", str(ledger), "--json"
    )
    assert code == 0
    report = json.loads(out)
    assert report["enrol"]["skipped"] == 3 and report["enrol"]["succeeded"] == 0
    assert sum(fake.stats.writes.values()) == writes


def test_batch_size_sets_the_people_per_request(fake: FakeIQualify, tmp_path: Path) -> None:
    add = "POST /offerings/{offeringId}/users"
    offering_id = current_offerings(fake)[0]
    rows = "".join(f"size.{n}@example.org\n" for n in range(5))
    people = write_csv(tmp_path / "p.csv", "email\n" + rows)
    code, _, err = run(fake, "enrol", "--offering", offering_id, str(people), "--batch-size", "0")
    assert code == 2 and "--batch-size" in err
    assert fake.stats.by_route[add] == 0
    ledger = str(tmp_path / "l.csv")
    args = ("enrol", "--offering", offering_id, str(people), "--ledger", ledger, "--json")
    code, out, err = run(fake, *args, "--batch-size", "2")
    assert code == 0, err
    assert json.loads(out)["enrol"]["succeeded"] == 5
    assert fake.stats.by_route[add] == 3  # 2 + 2 + 1
    enrolled = fake.state.offering(offering_id).enrolments
    assert {f"size.{n}@example.org" for n in range(5)} <= set(enrolled)
    # Without the option, the library's default batch carries all five in one request.
    other = current_offerings(fake)[1]
    code, out, err = run(fake, "enrol", "--offering", other, str(people), "--ledger", ledger)
    assert code == 0, err
    assert fake.stats.by_route[add] == 4


def test_bad_rows_are_listed_by_line_and_nothing_is_sent(
    fake: FakeIQualify, tmp_path: Path
) -> None:
    people = write_csv(
        tmp_path / "people.csv",
        "email,firstName\nok@example.org,Ok\nnot-an-email,Bad\n,Nobody\nok@example.org,Again\na@example.org,A,extra\n",
    )
    before = fake.stats.total_requests
    code, out, err = run(fake, "enrol", "--offering", current_offerings(fake)[0], str(people))
    assert code == 2
    assert out == ""
    assert "4 bad row(s), nothing sent" in err
    for fragment in (
        "line 3: invalid email 'not-an-email'",
        "line 4: no email",
        "line 5: ok@example.org already on line 2",
        "line 6: 3 fields",
    ):
        assert fragment in err
    assert fake.stats.total_requests == before
    code, _, err = run(
        fake, "enrol", "--offering", "X", str(write_csv(tmp_path / "h.csv", "mail,name\nx@y.z,X\n"))
    )
    assert code == 2 and "unknown column(s) 'mail', 'name'" in err
    code, _, err = run(fake, "enrol", str(people))
    assert code == 2 and "--offering" in err
    assert fake.stats.total_requests == before


def test_dry_run_reports_and_writes_nothing(
    fake: FakeIQualify, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    offering_id = current_offerings(fake)[0]
    enrolments = fake.state.offering(offering_id).enrolments
    existing = next(k for k, e in enrolments.items() if e.is_learner)
    elsewhere = next(k for k in fake.state.users if k not in enrolments)
    people = write_csv(
        tmp_path / "p.csv", f"email\n{existing}\nfresh.one@example.org\n{elsewhere}\n"
    )
    code, out, err = run(
        fake,
        "enrol",
        "--offering",
        offering_id,
        str(people),
        "--dry-run",
        "--json",
        "--ledger",
        str(tmp_path / "l.jsonl"),
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["dry_run"] is True
    assert report["would"] == {"create": 1, "enrol": 1, "skip": 1, "failed": 0, "unprocessed": 0}
    assert sum(fake.stats.writes.values()) == 0
    assert "fresh.one@example.org" not in fake.state.offering(offering_id).enrolments
    lines = [json.loads(line) for line in (tmp_path / "l.jsonl").read_text().splitlines()]
    assert {r["item"]["email"]: r["value"] for r in lines} == {
        existing: None,
        "fresh.one@example.org": "would create the user and enrol",
        elsewhere: "would enrol",
    }
    # Without --ledger a dry run leaves no file behind; the summary says what would happen.
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path / "empty")
    code, out, err = run(fake, "enrol", "--offering", offering_id, str(people), "--dry-run")
    assert code == 0, err
    assert list(Path().iterdir()) == []
    assert "dry run: 3 done (2 to do, 1 skipped)" in out
    assert re.search(r"would create the user and enrol\s+1\n", out)
    assert re.search(r"would enrol\s+1\n", out)
    assert re.search(r"already enrolled \(skip\)\s+1\n", out)
    assert "Ledger:" not in out
    assert sum(fake.stats.writes.values()) == 0


def test_failures_exit_1_and_a_journal_resumes_without_redoing(
    fake: FakeIQualify, tmp_path: Path
) -> None:
    offering_id = current_offerings(fake)[0]
    members = fake.state.offering(offering_id).enrolments
    facilitator = next(k for k, e in members.items() if e.is_facilitator)
    rows = "".join(f"resume.{n}@example.org,R,{n}\n" for n in range(8))
    people = write_csv(
        tmp_path / "p.csv", "email,firstName,lastName\n" + rows + f"{facilitator},F,F\n"
    )
    journal, ledger = tmp_path / "job.db", tmp_path / "ledger.csv"
    # The facilitator cannot be enrolled as a learner: that row fails, the ledger says so.
    code, out, _ = run(
        fake,
        "enrol",
        "--offering",
        offering_id,
        str(people),
        "--journal",
        str(journal),
        "--ledger",
        str(ledger),
    )
    assert code == 1
    rows_out = list(csv.DictReader(ledger.open()))
    outcomes = [r["outcome"] for r in rows_out]
    assert outcomes.count("succeeded") == 8 and outcomes.count("failed") == 1
    [failed] = [r for r in rows_out if r["outcome"] == "failed"]
    assert "already enrolled as facilitator, not learner" in failed["message"]
    assert "1 failed: RoleConflictError:" in out
    assert "see the ledger" in out
    adds = fake.stats.by_route["POST /offerings/{offeringId}/users"]
    # The re-run with the journal does not send the 8 done enrolments again.
    code, out, _ = run(
        fake,
        "enrol",
        "--offering",
        offering_id,
        str(people),
        "--journal",
        str(journal),
        "--json",
        "--ledger",
        str(tmp_path / "again.csv"),
    )
    assert code == 1
    report = json.loads(out)
    assert report["enrol"]["from_journal"] == 8 and report["enrol"]["succeeded"] == 8
    assert report["common_failure"]["type"] == "RoleConflictError"
    assert fake.stats.by_route["POST /offerings/{offeringId}/users"] == adds
    code, out, _ = run(fake, "enrol", "--offering", offering_id, str(people), "--journal",
                       str(journal), "--ledger", str(tmp_path / "again.csv"))  # fmt: skip
    assert "8 enrolments done by an earlier run, as the journal says: not sent again" in out
    # The ledger as PEOPLE, with the role the facilitator holds: only that row is done.
    code, out, err = run(
        fake,
        "enrol",
        "--offering",
        offering_id,
        str(ledger),
        "--role",
        "facilitator",
        "--json",
        "--ledger",
        str(tmp_path / "fixed.csv"),
    )
    assert code == 0, err
    report = json.loads(out)["enrol"]
    assert (report["items"], report["skipped"]) == (1, 1)


def test_a_wrong_offering_or_key_is_one_line_and_nothing_is_sent(
    fake: FakeIQualify, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # where the default ledger would go
    people = write_csv(tmp_path / "p.csv", "email\nana.preflight@example.org\n")
    ledger = tmp_path / "l.csv"
    good = current_offerings(fake)[0]
    for extra in ((), ("--dry-run",), ("--json",)):
        code, out, err = run(
            fake, "enrol", "--offering", good, "--offering", "NOPE", str(people),
            "--ledger", str(ledger), *extra,
        )  # fmt: skip
        assert (code, out, err) == (2, "", "error: offering 'NOPE' not found\n")
    assert sum(fake.stats.writes.values()) == 0
    assert list(tmp_path.iterdir()) == [people]
    env = {"IQUALIFY_API_KEY": "wrong-key-0123456789", "IQUALIFY_BASE_URL": fake.base_url}
    result = CliRunner().invoke(cli, ["enrol", "--offering", good, str(people)], env=env)
    assert result.exit_code == 2 and result.stderr.startswith("error: the API key was refused")
    assert sum(fake.stats.writes.values()) == 0
    assert list(tmp_path.iterdir()) == [people]  # the default ledger was not left behind


def test_an_unwritable_ledger_is_found_before_anything_is_sent(
    fake: FakeIQualify, tmp_path: Path
) -> None:
    people = write_csv(tmp_path / "p.csv", "email\nana.ledger@example.org\n")
    before = fake.stats.total_requests
    ledger = tmp_path / "no-such-dir" / "l.csv"
    code, _, err = run(fake, "enrol", "--offering", "X", str(people), "--ledger", str(ledger))
    assert code == 2 and err.startswith(f"error: cannot write the ledger '{ledger}'")
    assert fake.stats.total_requests == before


def test_ctrl_c_writes_a_ledger_row_for_every_input_person(tmp_path: Path) -> None:
    add = "POST /offerings/{offeringId}/users"
    with fake_in_thread(api_key=KEY, seed="demo", faults=Faults(latency_ms=10)) as fake:
        offering_id = current_offerings(fake)[0]
        rows = "".join(f"intr.{n}@example.org\n" for n in range(300))
        people = write_csv(tmp_path / "p.csv", "email\n" + rows)
        ledger, journal = tmp_path / "l.csv", tmp_path / "j.db"
        command = [
            *_cli_command(),
            "enrol",
            "--offering",
            offering_id,
            str(people),
            "--journal",
            str(journal),
            "--ledger",
            str(ledger),
            "--concurrency",
            "1",
            "--batch-size",
            "1",
            "--json",
        ]
        env = {**os.environ, "IQUALIFY_API_KEY": KEY, "IQUALIFY_BASE_URL": fake.base_url}
        child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 30
            while fake.stats.by_route[add] < 5 and child.poll() is None:
                assert time.monotonic() < deadline, "the enrolment did not start"
                time.sleep(0.01)
            child.send_signal(signal.SIGINT)
            out, err = child.communicate(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
        assert child.returncode == 130, err
        assert err.decode().endswith(
            "error: interrupted; re-run with the same --journal to resume\n"
        )
        # --json still prints its document, saying the run was interrupted.
        document = json.loads(out)
        assert document["interrupted"] is True and document["enrol"]["unprocessed"] > 0
        outcomes = [r["outcome"] for r in csv.DictReader(ledger.open())]
        assert len(outcomes) == 300
        # One request at a time: every POST the fake saw succeeded, but for the one in flight
        # when Ctrl-C came (it ends unprocessed, and the journal has it re-checked).
        assert fake.stats.by_route[add] - 1 <= outcomes.count("succeeded") < 300
        assert outcomes.count("succeeded") + outcomes.count("unprocessed") == 300
        # A re-run with the journal finishes the job without redoing anything.
        done = fake.stats.by_route[add]
        code, out, err = run(
            fake,
            "enrol",
            "--offering",
            offering_id,
            str(people),
            "--journal",
            str(journal),
            "--ledger",
            str(ledger),
            "--json",
        )
        assert code == 0, err
        enrolled = set(fake.state.offering(offering_id).enrolments)
        assert {f"intr.{n}@example.org" for n in range(300)} <= enrolled
        report = json.loads(out)["enrol"]
        assert report["succeeded"] + report["skipped"] == 300
        assert report["from_journal"] == outcomes.count("succeeded")
        assert fake.stats.by_route[add] - done <= 300 - outcomes.count("succeeded")


def test_export_writes_one_file_per_kind_with_every_row(fake: FakeIQualify, tmp_path: Path) -> None:
    now = fake.state.clock()
    offerings = sorted(o.id for o in fake.state.offerings.values() if o.timing(now) == "past")[:2]
    args = [
        "export-analytics",
        "--out",
        str(tmp_path),
        "--kind",
        "quiz-marks",
        "--kind",
        "channel-posts",
    ]
    for offering_id in offerings:
        args += ["--offering", offering_id]
    code, out, err = run(fake, *args, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["offerings"] == 2
    channels = sum(len(fake.state.offering(o).channels) for o in offerings)
    assert report["export"]["items"] == 2 + channels
    for kind in ("quiz-marks", "channel-posts"):
        path = tmp_path / f"{kind}.jsonl"
        records = [json.loads(line) for line in path.read_text().splitlines()]
        assert len(records) == report["files"][kind]["rows"] > 0
        assert {r["offeringId"] for r in records} <= set(offerings)
    assert all(
        "channelId" in json.loads(line)
        for line in (tmp_path / "channel-posts.jsonl").read_text().splitlines()
    )
    # The same through the API itself: row counts match what the fake serves.
    code, quiz, _ = run(
        fake, "call", "offerings.analytics.quiz_marks", "--offering-id", offerings[0]
    )
    first = sum(
        1
        for line in (tmp_path / "quiz-marks.jsonl").read_text().splitlines()
        if json.loads(line)["offeringId"] == offerings[0]
    )
    assert first == len(json.loads(quiz))


def test_export_csv_and_bad_kind(fake: FakeIQualify, tmp_path: Path) -> None:
    code, out, _ = run(
        fake,
        "export-analytics",
        "--current",
        "--kind",
        "learner-progress",
        "--out",
        str(tmp_path),
        "--format",
        "csv",
    )
    assert code == 0
    rows = list(csv.DictReader((tmp_path / "learner-progress.csv").open()))
    assert rows and "offeringId" in rows[0]
    assert "learner-progress.csv" in out
    code, _, err = run(fake, "export-analytics", "--kind", "marks", "--out", str(tmp_path))
    assert code == 2 and "unknown --kind marks" in err
    code, _, err = run(fake, "export-analytics", "--all", "--current", "--out", str(tmp_path))
    assert code == 2 and "choose one of --all, --current or --offering" in err


def _cli_command() -> list[str]:
    return [sys.executable, "-c", "from iqualify_async.cli import main; main()"]


def _demo_command(out_dir: Path) -> list[str]:
    return [
        *_cli_command(),
        "demo",
        "--people",
        "40",
        "--offerings",
        "2",
        "--out",
        str(out_dir),
    ]


def test_demo_piped_prints_clean_lines_and_accounts_for_everything(tmp_path: Path) -> None:
    done = subprocess.run(_demo_command(tmp_path), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "\x1b[" not in out and "\r" not in out and "━" not in out
    assert all(line == line.rstrip() for line in out.splitlines())
    assert "Enrolling 40 new people into 2 current offerings: 80 enrolments" in out
    assert re.search(r"enrol\s+80\s+80\s+0\s+0\s+0", out)
    assert "Every item accounted for." in out
    assert "429 answers" in out and "retries" in out
    ledger = list(csv.DictReader((tmp_path / "enrol-ledger.csv").open()))
    assert len(ledger) == 80 and {r["outcome"] for r in ledger} == {"succeeded"}
    assert len(list((tmp_path / "analytics").glob("*.jsonl"))) == 12
    # The README shows a full run; its lines that do not depend on timing must be real.
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for prefix in ("Faults: ", "Client: "):
        ours = [line for line in out.splitlines() if line.startswith(prefix)]
        shown = [line for line in readme.splitlines() if line.startswith(prefix)]
        assert ours and ours == shown, prefix
    assert "  adaptive rate: " in out


def test_demo_under_a_terminal_draws_progress_bars(tmp_path: Path) -> None:
    pid, fd = pty.fork()
    if pid == 0:  # the child: the demo, its stdout a terminal
        os.environ.update(TERM="xterm-256color", COLUMNS="120")
        os.environ.pop("NO_COLOR", None)
        os.execv(sys.executable, _demo_command(tmp_path))
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert os.waitstatus_to_exitcode(status) == 0, screen[-2000:]
    assert "━" in screen  # rich's bar
    assert "\x1b[" in screen  # drawn and redrawn with terminal control sequences
    assert "80/80" in screen
    assert "Every item accounted for." in screen
