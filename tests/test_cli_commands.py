"""``iqualify call``, ``endpoints``, ``serve-fake``, bad arguments and the API key handling."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from iqualify_async import ENDPOINTS, SHORTCUTS
from iqualify_async.cli import cli
from iqualify_async.testing import FakeIQualify

from .conftest import THREAD_KEY

KEY = THREAD_KEY


@pytest.fixture(scope="module")
def fake(module_threaded_fake: FakeIQualify) -> FakeIQualify:
    return module_threaded_fake


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_endpoints_lists_every_operation_with_its_python_name() -> None:
    code, out, _ = run("endpoints")
    assert code == 0
    assert f"{len(ENDPOINTS) + len(SHORTCUTS)} operations" in out
    for endpoint in (*ENDPOINTS, *SHORTCUTS.values()):
        assert endpoint.attr in out
    assert "/offerings/{offeringId}/users" in out
    assert "users.unsuspend" in out


def test_endpoints_json_is_the_registry() -> None:
    code, out, _ = run("endpoints", "--json")
    assert code == 0
    listed = json.loads(out)
    assert [e["attr"] for e in listed] == [e.attr for e in ENDPOINTS] + list(SHORTCUTS)
    users_list = next(e for e in listed if e["attr"] == "offerings.users.list")
    assert users_list["method"] == "GET"
    assert {p["python_name"] for p in users_list["params"]} >= {"offering_id", "learners"}


def test_endpoints_one_operation_shows_its_options() -> None:
    code, out, _ = run("endpoints", "offerings.users.list")
    assert code == 0
    assert "--offering-id" in out and "offeringId" in out and "--learners" in out


def test_endpoints_shows_a_shortcut() -> None:
    code, out, _ = run("endpoints", "users.unsuspend")
    assert code == 0
    assert "PUT /users/{userEmail}/suspend  (users.unsuspend)" in out
    assert "--user-email" in out


def test_serve_fake_help_says_flat_errors_cover_207_items() -> None:
    code, out, _ = run("serve-fake", "--help")
    assert code == 0
    assert "failed items of a 207" in " ".join(out.split())


def test_call_prints_the_api_answer_as_json(fake: FakeIQualify) -> None:
    code, out, _ = run(
        "call", "offerings.list_current", "--base-url", fake.base_url, env={"IQUALIFY_API_KEY": KEY}
    )
    assert code == 0
    current = json.loads(out)
    assert current and all("id" in o for o in current)
    offering_id = current[0]["id"]
    # Ids may start with "-": everything after OPERATION is read as parameters, not options.
    code, out, _ = run(
        "call",
        "offerings.users.list",
        "--offeringId",
        offering_id,
        "--facilitators=false",
        "--markers",
        "no",
        "--api-key",
        KEY,
        "--base-url",
        fake.base_url,
    )
    assert code == 0, out
    users = json.loads(out)
    enrolled = fake.state.offering(offering_id)
    learners = {k for k, e in enrolled.enrolments.items() if e.is_learner}
    assert users and {u["email"].lower() for u in users} == learners


def test_call_sends_json_bodies_and_changes_the_state(fake: FakeIQualify) -> None:
    offering_id = next(iter(fake.state.offerings))
    people = [{"email": "cli.body@example.com", "firstName": "Cli", "lastName": "Body"}]
    code, out, err = run(
        "call",
        "offerings.users.add",
        "--offering-id",
        offering_id,
        "--users",
        json.dumps(people),
        "--api-key",
        KEY,
        "--base-url",
        fake.base_url,
    )
    assert code == 0, err
    answer = json.loads(out)
    assert answer["items"][0]["status"] == "succeeded"
    assert "cli.body@example.com" in fake.state.offering(offering_id).enrolments


def test_call_with_failed_items_exits_1_and_shows_each_error(fake: FakeIQualify) -> None:
    offering_id = next(iter(fake.state.offerings))
    enrolled = fake.state.offering(offering_id).enrolments
    existing = next(k for k, e in enrolled.items() if e.is_learner)
    people = [{"email": existing}, {"email": "cli.partial@example.com"}]
    code, out, err = run(
        "call",
        "offerings.users.add",
        "--offering-id",
        offering_id,
        "--users",
        json.dumps(people),
        "--api-key",
        KEY,
        "--base-url",
        fake.base_url,
    )
    assert code == 1, err
    assert "1 failed and 0 unknown of 2 item(s)" in err
    answer = json.loads(out)
    assert answer["status"] == 207
    failed, added = answer["items"]
    assert failed["status"] == "failed" and set(failed["error"]) == {"name", "details"}
    assert failed["error"]["name"] == "ObjectExistsError" and existing in failed["error"]["details"]
    assert added["status"] == "succeeded" and "cli.partial@example.com" in enrolled


def test_call_api_error_is_one_line_and_exit_1(fake: FakeIQualify) -> None:
    code, out, err = run(
        "call",
        "offerings.get",
        "--offering-id",
        "no-such-offering",
        "--api-key",
        KEY,
        "--base-url",
        fake.base_url,
    )
    assert code == 1
    assert out == ""
    assert err.startswith("error: 404 ObjectNotFoundError") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["call", "offerings.users.lst"],
            "unknown operation 'offerings.users.lst'; did you mean 'offerings.users.list'",
        ),
        (
            ["call", "offerings.users.list", "--offering", "X"],
            "has no parameter --offering; did you mean '--offering-id'",
        ),
        (["call", "offerings.users.list"], "offerings.users.list needs --offering-id"),
        (
            ["call", "offerings.users.list", "--offering-id", "X", "--learners", "maybe"],
            "--learners must be true or false",
        ),
        (
            ["call", "offerings.users.add", "--offering-id", "X", "--users", "{not json"],
            "--users must be JSON",
        ),
        (
            ["call", "offerings.users.add", "--offering-id", "X", "--users", '{"a": 1}'],
            "--users must be a JSON array",
        ),
        (["call", "offerings.get", "--offering-id"], "--offering-id needs a value"),
        (["call", "offerings.get", "stray"], "unexpected argument 'stray'"),
        (["endpoints", "nope.nothing"], "unknown operation 'nope.nothing'"),
        (
            ["call", "offerings.get", "--offering-id", "X", "--base-url", "ftp://example.com"],
            "base_url must be an absolute http(s) URL",
        ),
    ],
)
def test_bad_arguments_exit_2_with_one_line_before_any_request(
    fake: FakeIQualify, args: list[str], message: str
) -> None:
    before = fake.stats.total_requests
    code, _, err = run(*args, env={"IQUALIFY_API_KEY": KEY})
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert fake.stats.total_requests == before


def test_unknown_command_and_option_are_usage_errors() -> None:
    code, _, err = run("enroll")
    assert code == 2 and "No such command 'enroll'" in err
    code, _, err = run("endpoints", "--colour")
    assert code == 2 and "No such option '--colour'" in err


def test_missing_key_exits_2_naming_the_variable(fake: FakeIQualify) -> None:
    env = {"IQUALIFY_API_KEY": ""}
    code, out, err = run("call", "offerings.list", "--base-url", fake.base_url, env=env)
    assert code == 2
    assert "IQUALIFY_API_KEY" in err and "--api-key" in err
    assert out == ""


def test_the_key_is_never_echoed(fake: FakeIQualify) -> None:
    wrong = "wrong-key-5d1e-DO-NOT-PRINT"
    for args in (
        [
            "call",
            "offerings.get",
            "--offering-id",
            "nope",
            "--api-key",
            wrong,
            "--base-url",
            fake.base_url,
            "-v",
        ],
        [
            "call",
            "offerings.get",
            "--offering-id",
            "nope",
            "--api-key",
            wrong,
            "--base-url",
            "http://example.com/v1",
        ],
        ["call", "offerings.get", "--api-key", wrong],
    ):
        code, out, err = run(*args)
        assert code in (1, 2)
        assert wrong not in out and wrong not in err
    code, out, err = run("call", "--help")
    assert KEY not in out


def test_verbose_shows_the_traceback() -> None:
    code, _, err = run(
        "call",
        "offerings.get",
        "--offering-id",
        "X",
        "--api-key",
        KEY,
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--max-retries",
        "0",
        "-v",
    )
    assert code == 1
    assert "Traceback" in err and "APIConnectionError" in err
    code, _, err = run(
        "call",
        "offerings.get",
        "--offering-id",
        "X",
        "--api-key",
        KEY,
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--max-retries",
        "0",
    )
    assert code == 1 and "Traceback" not in err and err.count("\n") == 1


def test_serve_fake_prints_url_and_key_and_stops_on_sigterm() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from iqualify_async.cli import main; main()",
            "serve-fake",
            "--port",
            "0",
            "--api-key",
            "served-key-0123456789",
            "--seed",
            "none",
            "--latency-ms",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("Fake iQualify API listening on http://127.0.0.1:")
        base_url = first.split()[-1]
        assert proc.stdout.readline().strip() == "API key: served-key-0123456789"
        code, out, err = run(
            "call", "org.get", "--api-key", "served-key-0123456789", "--base-url", base_url
        )
        assert code == 0, err
        assert "id" in json.loads(out)
    finally:
        proc.terminate()
        rest, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "Stopped." in rest


def test_the_key_is_hidden_everywhere_in_errors_and_tracebacks(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from iqualify_async.cli.app import report
    from iqualify_async.cli.state import State

    key = "cli-key-7f3a9c-SECRET"

    def fail(key: str) -> None:
        raise RuntimeError(f'refused "{key}" (Bearer {key}); see x{key}y')

    for state in (State(api_key=key, verbose=1), State(verbose=1)):
        monkeypatch.setenv("IQUALIFY_API_KEY", key)
        try:
            fail(key)
        except RuntimeError as exc:
            assert report(exc, state) == 1
        err = capsys.readouterr().err
        assert "Traceback" in err and "RuntimeError" in err
        assert key not in err
        assert 'refused "***" (Bearer ***); see x***y' in err
        assert "error: RuntimeError: refused" in err
