"""A ledger fed back to its job: the items read back are the items first given."""

from __future__ import annotations

import asyncio
import csv
import tempfile
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iqualify_async import bulk
from iqualify_async.bulk import Enrolment, Outcome, Status, people_from
from iqualify_async.bulk.ledger import LedgerWriter

from ._postgres_service import fresh_schema

_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)
_OPTIONAL = st.none() | _TEXT
_EMAIL = st.from_regex(r"[a-z0-9=+\-][a-z0-9=+\-.]{0,7}@[a-z]{1,6}\.(org|com)", fullmatch=True)
PERSON = st.fixed_dictionaries(
    {"email": _EMAIL},
    optional={
        "firstName": _OPTIONAL,
        "lastName": _OPTIONAL,
        "personId": _OPTIONAL,
        "tags": st.lists(_TEXT.filter(str.strip), max_size=4),
    },
)
PEOPLE = st.lists(PERSON, min_size=1, max_size=6, unique_by=lambda p: p["email"].lower())


def write(path: Path, enrolments: list[Enrolment]) -> None:
    with LedgerWriter(path) as writer:
        for index, item in enumerate(enrolments):
            status = (Status.FAILED, Status.UNPROCESSED, Status.SUCCEEDED)[index % 3]
            writer.write(Outcome(index, item.key(), item, status))


@settings(max_examples=60, deadline=None)
@given(PEOPLE, st.sampled_from(["csv", "jsonl"]))
def test_people_written_to_a_ledger_are_read_back_equal(
    raw: list[dict[str, object]], suffix: str
) -> None:
    people = people_from(raw)
    enrolments = [Enrolment("O-1", p, "facilitator") for p in people]
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"ledger.{suffix}"
        write(path, enrolments)
        back = people_from(bulk.items_from_ledger(path, statuses=None))
    assert back == people


def test_an_enrolment_ledger_row_is_a_person_in_people_csv_columns(tmp_path: Path) -> None:
    people = people_from(
        [
            {"email": "a@example.org", "tags": ["x y", "=z"]},
            {"email": "b@example.org", "tags": ["a;b"]},
            {"email": "c@example.org"},
        ]
    )
    path = tmp_path / "ledger.csv"
    write(path, [Enrolment("O-1", p) for p in people])
    rows = list(bulk.items_from_ledger(path))  # failed and unprocessed, by default
    assert rows[0] == {
        "offering_id": "O-1",
        "role": "learner",
        "email": "a@example.org",
        "firstName": "",
        "lastName": "",
        "personId": "",
        "tags": "x y;=z",
    }
    assert rows[1]["tags"] == '["a;b"]'  # a tag holding a separator stays one tag
    assert people_from(rows) == people[:2]


async def _journal_ledger(journal: str | Path, enrolments: list[Enrolment], path: Path) -> None:
    async def enrol(item: Enrolment) -> str:
        if item.key().endswith("0.org/facilitator"):
            raise ValueError("refused")
        return "enrolled"

    await bulk.run(enrol, enrolments, journal=journal, key=Enrolment.key, name="enrol")
    await bulk.ledger_from_journal(journal, path)


def _journal_round_trip(journal: str | Path, people: list[bulk.Person], suffix: str) -> None:
    enrolments = [Enrolment("O-1", p, "facilitator") for p in people]
    with tempfile.TemporaryDirectory() as directory:
        own = Path(directory) / f"own.{suffix}"
        write(own, enrolments)
        path = Path(directory) / f"ledger.{suffix}"
        asyncio.run(_journal_ledger(journal, enrolments, path))
        back = people_from(bulk.items_from_ledger(path, statuses=None))
        if suffix == "csv":
            with own.open(newline="") as f, path.open(newline="") as g:
                assert next(csv.reader(f)) == next(csv.reader(g))  # the same columns
    assert back == people


@settings(max_examples=25, deadline=None)
@given(PEOPLE, st.sampled_from(["csv", "jsonl"]))
def test_people_in_a_journal_ledger_are_read_back_equal(
    raw: list[dict[str, object]], suffix: str
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        _journal_round_trip(Path(directory) / "j.sqlite", people_from(raw), suffix)


@pytest.mark.services
@settings(max_examples=10, deadline=None)
@given(PEOPLE, st.sampled_from(["csv", "jsonl"]))
def test_people_in_a_postgres_journal_ledger_are_read_back_equal(
    raw: list[dict[str, object]], suffix: str
) -> None:
    with fresh_schema() as url:
        _journal_round_trip(url, people_from(raw), suffix)


def test_a_journal_ledger_feeds_the_enrol_command(tmp_path: Path) -> None:
    people = people_from([{"email": "a@example.org", "tags": ["x", "y"], "firstName": "A"}])
    path = tmp_path / "ledger.csv"
    asyncio.run(_journal_ledger(tmp_path / "j.sqlite", [Enrolment("O-1", people[0])], path))
    with path.open(newline="") as f:
        header = next(csv.reader(f))
    assert "email" in header and "person.email" not in header
    assert bulk.read_people_file(path, outcomes=["succeeded"]).people == people


def _person_ledgers(journal: Path, people: list[bulk.Person], own: Path, path: Path) -> None:
    """A companion job's items (people) in a ledger written as it runs and one from its
    journal."""

    async def add(person: bulk.Person) -> str:
        if person.email.startswith("="):
            raise ValueError("refused")
        return "done"

    async def go() -> None:
        job = bulk.run(add, people, journal=journal, key=lambda p: p.email.lower(), name="add")
        await job.wait(ledger=own)
        await bulk.ledger_from_journal(journal, path)

    asyncio.run(go())


@settings(max_examples=40, deadline=None)
@given(PEOPLE, st.sampled_from(["csv", "jsonl"]))
def test_people_of_a_companion_ledger_are_read_back_equal(
    raw: list[dict[str, object]], suffix: str
) -> None:
    people = [
        attrs.evolve(p, extra={"Department": f"=D{i}"}) for i, p in enumerate(people_from(raw))
    ]
    with tempfile.TemporaryDirectory() as directory:
        own = Path(directory) / f"own.{suffix}"
        path = Path(directory) / f"journal.{suffix}"
        _person_ledgers(Path(directory) / "j.sqlite", people, own, path)
        for ledger in (own, path):
            if suffix == "jsonl":  # each item as the columns of a people file
                items = list(bulk.items_from_ledger(ledger, statuses=None))
                assert items == [p.row() for p in people]
                continue
            found = bulk.read_people_file(ledger, outcomes=[str(s) for s in Status])
            assert found.people == people
            assert [p.extra for p in found.people] == [p.extra for p in people]
