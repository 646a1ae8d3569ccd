"""People files as administrators have them: dialects, encodings, extra columns, .xlsx, ledgers."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from iqualify_async.bulk import Enrolment, LedgerWriter, Outcome, PeopleError, Person, Status
from iqualify_async.bulk.people_files import read_people_file

ANA = Person("ana@example.org", "Ana", "Lee", None, ("red", "blue"))
ZOE = Person("zoë@example.org", "Zoë", "Müller")


@pytest.mark.parametrize(
    "text",
    [
        "email,firstName,lastName,tags\nana@example.org,Ana,Lee,red;blue\nzoë@example.org,Zoë,Müller,\n",
        'email;firstName;lastName;tags\nana@example.org;Ana;Lee;"red;blue"\nzoë@example.org;Zoë;Müller;\n',
        "email\tfirstName\tlastName\ttags\nana@example.org\tAna\tLee\tred|blue\nzoë@example.org\tZoë\tMüller\t\n",
    ],
    ids=["comma", "semicolon", "tab"],
)
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_the_separator_and_unicode_encoding_are_recognised(text: str, encoding: str) -> None:
    source = io.BytesIO(text.replace("\n", "\r\n").encode(encoding))
    found = read_people_file(source)
    assert found.people == [ANA, ZOE] and found.notes == []


def test_cp1252_is_read_with_a_note_or_as_told(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes("email;firstName\r\nzoë@example.org;Zoë\r\n".encode("cp1252"))
    found = read_people_file(path)
    assert found.people == [Person("zoë@example.org", "Zoë")]
    assert found.notes == [
        f"{path} is not UTF-8: read it as cp1252 (Windows); pass --encoding to choose"
    ]
    assert read_people_file(path, encoding="cp1252").notes == []
    with pytest.raises(PeopleError, match="not utf-8 text"):
        read_people_file(path, encoding="utf-8")
    with pytest.raises(PeopleError, match="unknown encoding 'nope'"):
        read_people_file(path, encoding="nope")


def test_extra_columns_are_kept_for_the_ledger_or_refused_when_strict() -> None:
    text = b"email,department,firstName\nana@example.org,Maths,Ana\n"
    found = read_people_file(io.BytesIO(text))
    assert found.people == [Person("ana@example.org", "Ana")]
    assert found.people[0].extra == {"department": "Maths"}
    assert found.notes == [
        "column(s) 'department' are not sent to the API; they are kept in the ledger"
    ]
    assert Enrolment("O", found.people[0]).ledger_fields()["department"] == "Maths"
    with pytest.raises(PeopleError, match="unknown column\\(s\\) 'department'"):
        read_people_file(io.BytesIO(text), strict_columns=True)


def test_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(b"email\nana@example.org\n"))
    monkeypatch.setattr("sys.stdin", stdin)
    assert read_people_file("-").people == [Person("ana@example.org")]


def test_an_xlsx_workbook(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Email", "First Name", "Tags", "Cohort"])
    sheet.append(["ana@example.org", "Ana", "red; blue", 2024])
    sheet.append([None, None, None, None])
    sheet.append(["bad", "Bad", None, None])
    path = tmp_path / "people.xlsx"
    book.save(path)
    with pytest.raises(PeopleError) as caught:
        read_people_file(path)
    assert caught.value.problems == [("line 4", "invalid email 'bad'")]
    sheet.delete_rows(4)
    book.save(path)
    [ana] = read_people_file(path).people
    assert ana == Person("ana@example.org", "Ana", tags=("red", "blue"))
    assert ana.extra == {"Cohort": "2024"}


def test_a_ledger_gives_its_people_to_redo_once_each(tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    ana = Person("ana@example.org", "=Ana", tags=("a b", "c"), extra={"department": "Maths"})
    bob = Person("bob@example.org")
    with LedgerWriter(path) as writer:
        for index, (offering, person, status) in enumerate(
            [
                ("O-1", ana, Status.FAILED),
                ("O-2", ana, Status.UNPROCESSED),
                ("O-1", bob, Status.SUCCEEDED),
            ]
        ):
            item = Enrolment(offering, person)
            writer.write(Outcome(index, item.key(), item, status))
    found = read_people_file(path)
    assert found.ledger and found.people == [ana]
    assert found.people[0].extra == {"department": "Maths"}
    assert read_people_file(path, outcomes=["succeeded"]).people == [bob]
    with pytest.raises(PeopleError, match="unknown outcome\\(s\\) done"):
        read_people_file(path, outcomes=["done"])
    with pytest.raises(PeopleError, match="no rows with outcome skipped"):
        read_people_file(path, outcomes=["skipped"])
    with pytest.raises(PeopleError, match="applies to a ledger"):
        read_people_file(io.BytesIO(b"email\nana@example.org\n"), outcomes=["failed"])


def test_the_ledger_of_a_job_over_emails_gives_its_people(tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    with LedgerWriter(path) as writer:
        writer.write(Outcome(0, "k0", "ana@example.org", Status.FAILED))
        writer.write(Outcome(1, "k1", "bob@example.org", Status.SKIPPED))
    assert read_people_file(path).people == [Person("ana@example.org")]
