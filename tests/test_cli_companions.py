"""``unenrol``, ``add-to-group``, ``add-to-channel``, ``assign-marker`` and ``transfer`` on the
command line, against the fake server."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from iqualify_async.cli import cli
from iqualify_async.testing import FakeIQualify, Faults
from iqualify_async.testing.state import Offering

from ._fake_thread import fake_in_thread
from .conftest import THREAD_KEY as KEY

GROUP_ADD = "POST /offerings/{offeringId}/groups/{groupId}/learners"


@pytest.fixture
def fake(threaded_fake: FakeIQualify) -> FakeIQualify:
    return threaded_fake


def run(fake: FakeIQualify, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    env = {"IQUALIFY_API_KEY": KEY, "IQUALIFY_BASE_URL": fake.base_url}
    result = CliRunner().invoke(cli, list(args), env=env, input=stdin)
    return result.exit_code, result.stdout, result.stderr


def first(fake: FakeIQualify) -> Offering:
    return fake.state.offerings[sorted(fake.state.offerings)[0]]


def learners(offering: Offering, n: int) -> list[str]:
    return [k for k, e in offering.enrolments.items() if e.is_learner][:n]


def people_csv(path: Path, emails: list[str]) -> Path:
    path.write_text("email\n" + "".join(f"{e}\n" for e in emails))
    return path


def test_each_companion_command_does_its_job_and_skips_on_a_second_run(
    fake: FakeIQualify, tmp_path: Path
) -> None:
    offering = first(fake)
    people = learners(offering, 3)
    source = people_csv(tmp_path / "p.csv", people)
    group = next(iter(offering.groups.values()))
    channel = next(c for c in offering.channels.values() if c.group_discussion)
    marker = next(k for k, e in offering.enrolments.items() if e.is_marker)
    commands = [
        ("add-to-group", "--offering", offering.id, "--group", group.id),
        ("add-to-channel", "--offering", offering.id, "--channel", channel.id),
        ("assign-marker", "--offering", offering.id, "--marker", marker),
    ]
    for command in commands:
        ledger = tmp_path / f"{command[0]}.csv"
        code, out, err = run(fake, *command, str(source), "--ledger", str(ledger), "--json")
        assert code == 0, err
        report = json.loads(out)[command[0]]
        assert report["items"] == 3 and report["failed"] == 0
        assert len(list(csv.DictReader(ledger.open()))) == 3
        code, out, err = run(fake, *command, str(source), "--ledger", str(ledger), "--json")
        assert code == 0, err
        again = json.loads(out)[command[0]]
        # A marker's list is a set: adding again succeeds; the others say it was done.
        assert again["skipped" if command[0] != "assign-marker" else "succeeded"] == 3
    assert set(people) <= set(group.learners) and set(people) <= set(channel.learners)
    assert set(people) <= set(offering.marking[marker])
    code, out, err = run(fake, "unenrol", "--offering", offering.id, str(source),
                         "--ledger", str(tmp_path / "u.csv"))  # fmt: skip
    assert code == 0, err
    assert "Removing 3 people from offering" in out and "3 people" in out
    assert not set(people) & set(offering.enrolments)


def test_transfer_with_a_dry_run_first_and_standard_input(
    fake: FakeIQualify, tmp_path: Path
) -> None:
    by_root: dict[str, list[Offering]] = {}
    for offering in fake.state.offerings.values():
        by_root.setdefault(offering.root_content_id, []).append(offering)
    source, target = next(group for group in by_root.values() if len(group) > 1)[:2]
    people = [p for p in learners(source, 10) if p not in target.enrolments][:2]
    stdin = "email\n" + "\n".join(people) + "\n"
    args = ("transfer", "--from", source.id, "--to", target.id, "-")
    code, out, err = run(fake, *args, "--dry-run", stdin=stdin)
    assert code == 0, err
    assert "Checking 2 people from offering" in out
    assert "would move" in out and sum(fake.stats.writes.values()) == 0
    code, out, err = run(fake, *args, "--no-send-invite", "--ledger", str(tmp_path / "t.csv"),
                         stdin=stdin)  # fmt: skip
    assert code == 0, err
    assert set(people) <= set(target.enrolments) and not set(people) & set(source.enrolments)


def test_companion_commands_check_offerings_first(fake: FakeIQualify, tmp_path: Path) -> None:
    source = people_csv(tmp_path / "p.csv", ["a.b@example.org"])
    for args in (
        ("unenrol", "--offering", "NOPE"),
        ("add-to-group", "--offering", "NOPE", "--group", "G"),
        ("transfer", "--from", first(fake).id, "--to", "NOPE"),
    ):
        code, out, err = run(fake, *args, str(source), "--dry-run")
        assert (code, out, err) == (2, "", "error: offering 'NOPE' not found\n")
    assert sum(fake.stats.writes.values()) == 0


@pytest.mark.parametrize("dry_run", [True, False])
def test_companion_commands_check_groups_channels_and_markers_first(
    fake: FakeIQualify, tmp_path: Path, dry_run: bool
) -> None:
    offering = first(fake)
    source = people_csv(tmp_path / "p.csv", learners(offering, 3))
    absent = "f" * 24
    nobody = next(k for k, e in offering.enrolments.items() if e.is_learner)
    for option, value, kind in (
        ("--group", "NOPE", "group"),
        ("--group", absent, "group"),
        ("--channel", "NOPE", "channel"),
        ("--channel", absent, "channel"),
        ("--marker", "nobody@example.org", "marker"),
        ("--marker", nobody, "marker"),  # enrolled, but not a marker
    ):
        command = {"group": "add-to-group", "channel": "add-to-channel"}.get(kind, "assign-marker")
        args = [command, "--offering", offering.id, option, value, str(source)]
        args += ["--dry-run"] if dry_run else ["--ledger", str(tmp_path / "l.csv")]
        code, out, err = run(fake, *args)
        assert (code, err) == (2, f"error: {kind} {value!r} not found\n"), out
        assert not (tmp_path / "l.csv").exists()
    assert sum(fake.stats.writes.values()) == 0


def test_add_to_group_killed_with_sigkill_resumes_without_sending_twice(tmp_path: Path) -> None:
    with fake_in_thread(api_key=KEY, seed="demo", faults=Faults(latency_ms=20)) as fake:
        offering = first(fake)
        group = next(iter(offering.groups.values()))
        people = [p for p in learners(offering, 60) if p not in group.learners][:30]
        source = people_csv(tmp_path / "p.csv", people)
        journal, ledger = tmp_path / "j.db", tmp_path / "l.csv"
        command = [
            sys.executable, "-c", "from iqualify_async.cli import main; main()",
            "add-to-group", "--offering", offering.id, "--group", group.id, str(source),
            "--journal", str(journal), "--ledger", str(ledger), "--concurrency", "1",
        ]  # fmt: skip
        env = {**os.environ, "IQUALIFY_API_KEY": KEY, "IQUALIFY_BASE_URL": fake.base_url}
        child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 30
            while fake.stats.by_route[GROUP_ADD] < 5 and child.poll() is None:
                assert time.monotonic() < deadline, "the job did not start"
                time.sleep(0.01)
            child.send_signal(signal.SIGKILL)
            child.communicate(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
        # Killed: no ledger in place, the partial one under its own name.
        assert not ledger.exists() and (tmp_path / "l.csv.partial").exists()
        sent = fake.stats.by_route[GROUP_ADD]
        code, out, err = run(
            fake, "add-to-group", "--offering", offering.id, "--group", group.id, str(source),
            "--journal", str(journal), "--ledger", str(ledger), "--json",
        )  # fmt: skip
        assert code == 0, err
        report = json.loads(out)["add-to-group"]
        assert report["items"] == 30 and report["failed"] == report["unprocessed"] == 0
        assert report["from_journal"] >= sent - 1
        assert set(people) <= set(group.learners)
        # At most the request in flight at the kill is sent again (it was checked first).
        assert fake.stats.by_route[GROUP_ADD] <= 30 + 1
        assert len(list(csv.DictReader(ledger.open()))) == 30


def test_a_journal_of_another_job_is_refused_and_the_ledger_left_alone(
    fake: FakeIQualify, tmp_path: Path
) -> None:
    offering = first(fake)
    group = next(iter(offering.groups.values()))
    source = people_csv(tmp_path / "p.csv", learners(offering, 2))
    journal, ledger = tmp_path / "j.db", tmp_path / "l.csv"
    code, _, err = run(fake, "add-to-group", "--offering", offering.id, "--group", group.id,
                       str(source), "--journal", str(journal), "--ledger", str(ledger))  # fmt: skip
    assert code == 0, err
    before = ledger.read_text()
    code, _, err = run(fake, "unenrol", "--offering", offering.id, str(source),
                         "--journal", str(journal), "--ledger", str(ledger))  # fmt: skip
    assert code == 2 and "is the journal of another job" in err
    assert ledger.read_text() == before and not (tmp_path / "l.csv.partial").exists()
    assert set(learners(offering, 2)) <= set(offering.enrolments)


def test_a_companion_ledger_keeps_every_column_and_feeds_the_command_again(
    fake: FakeIQualify, tmp_path: Path
) -> None:
    offering = first(fake)
    group = next(iter(offering.groups.values()))
    people = [p for p in learners(offering, 100) if p not in group.learners][:2]
    assert len(people) == 2
    source = tmp_path / "p.csv"
    source.write_text(
        "email,firstName,Department\n"
        + "".join(f"{e},Name {i},=Dept {i}\n" for i, e in enumerate(people))
    )
    command = ("add-to-group", "--offering", offering.id, "--group", group.id)
    ledger = tmp_path / "ledger.csv"
    code, _, err = run(fake, *command, str(source), "--ledger", str(ledger))
    assert code == 0, err
    assert "'Department'" in err and "kept in the ledger" in err
    rows = list(csv.DictReader(ledger.open(newline="")))
    assert [(r["email"], r["firstName"], r["Department"]) for r in rows] == [
        (e, f"Name {i}", f"'=Dept {i}") for i, e in enumerate(people)
    ]
    assert "item" not in rows[0]
    assert [r["key"] for r in rows] == [
        f"add_to_group/{offering.id}/{group.id}/{e.lower()}" for e in people
    ]
    again = tmp_path / "again.csv"
    code, out, err = run(
        fake, *command, str(ledger), "--outcomes", "succeeded", "--ledger", str(again), "--json"
    )
    assert code == 0, err
    assert json.loads(out)["add-to-group"]["skipped"] == 2
    rows = list(csv.DictReader(again.open(newline="")))
    assert [(r["email"], r["firstName"], r["Department"], r["outcome"]) for r in rows] == [
        (e, f"Name {i}", f"'=Dept {i}", "skipped") for i, e in enumerate(people)
    ]


def test_a_ledger_of_emails_from_an_earlier_version_still_feeds_a_companion_command(
    fake: FakeIQualify, tmp_path: Path
) -> None:
    offering = first(fake)
    group = next(iter(offering.groups.values()))
    [person] = [p for p in learners(offering, 100) if p not in group.learners][:1]
    old = tmp_path / "old.csv"
    old.write_text(
        "index,key,outcome,item,value,error_type,error_status,error_name,error_details,"
        "message,from_journal,verified,extra_fields\r\n"
        f"0,add_to_group/{offering.id}/{group.id}/{person},failed,{person},,,,,,,false,false,\r\n"
    )
    command = ("add-to-group", "--offering", offering.id, "--group", group.id)
    ledger = tmp_path / "ledger.csv"
    code, out, err = run(fake, *command, str(old), "--ledger", str(ledger), "--json")
    assert code == 0, err
    assert json.loads(out)["add-to-group"]["succeeded"] == 1
    assert person in group.learners
    [row] = csv.DictReader(ledger.open(newline=""))
    assert row["email"] == person and row["outcome"] == "succeeded"
