"""Settings: API key and base URL resolution, insecure-HTTP refusal, argument checks."""

from __future__ import annotations

import pytest

from iqualify_async import Client, ConfigurationError, Timeout

KEY = "config-key-0123456789"


def test_api_key_missing_names_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IQUALIFY_API_KEY", raising=False)
    with pytest.raises(ConfigurationError) as info:
        Client()
    assert "api_key" in str(info.value) and "IQUALIFY_API_KEY" in str(info.value)


def test_api_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IQUALIFY_API_KEY", "from-env-0123456789")
    assert Client()._api_key == "from-env-0123456789"


def test_argument_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IQUALIFY_API_KEY", "from-env-0123456789")
    monkeypatch.setenv("IQUALIFY_BASE_URL", "https://env.example.org/v1")
    client = Client(api_key="arg-key-0123456789", base_url="https://arg.example.org/v1/")
    assert client._api_key == "arg-key-0123456789"
    assert client.base_url == "https://arg.example.org/v1"


def test_base_url_default_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IQUALIFY_BASE_URL", raising=False)
    assert Client(api_key=KEY).base_url == "https://api.iqualify.com/v1"
    monkeypatch.setenv("IQUALIFY_BASE_URL", "https://eu.example.org/v1")
    assert Client(api_key=KEY).base_url == "https://eu.example.org/v1"


@pytest.mark.parametrize("url", ["http://api.example.org/v1", "http://10.0.0.5/v1"])
def test_plain_http_refused_for_remote_hosts(url: str) -> None:
    with pytest.raises(ConfigurationError, match="unencrypted"):
        Client(api_key=KEY, base_url=url)


def test_plain_http_allowed_when_asked() -> None:
    client = Client(api_key=KEY, base_url="http://api.example.org/v1", allow_insecure_http=True)
    assert client.base_url == "http://api.example.org/v1"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/v1", "http://localhost/v1", "http://[::1]:9000/v1"]
)
def test_plain_http_allowed_on_loopback(url: str) -> None:
    assert Client(api_key=KEY, base_url=url).base_url == url


@pytest.mark.parametrize(
    "url", ["ftp://x.org/v1", "not a url", "https://x.org/v1?a=1", "https://u:p@x.org/v1", "/v1"]
)
def test_bad_base_urls(url: str) -> None:
    with pytest.raises(ConfigurationError, match="base_url"):
        Client(api_key=KEY, base_url=url)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "   ",
        "a\nb",
        "nul\x00key",
        "del\x7fkey",
        "offering",  # a word: hiding it would mangle every message that mentions offerings
        "k-123",  # short
        "internationalisation",  # long, but one kind of character
        "0123456789012345678",  # digits only
        "sk-test with-a-space-0123",
    ],
)
def test_bad_api_keys(key: str) -> None:
    with pytest.raises(ConfigurationError, match="api_key"):
        Client(api_key=key)


@pytest.mark.parametrize(
    "key", ["sk-test-0123456789", "ABCDEF0123456789abcdef", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"]
)
def test_long_mixed_keys_are_accepted(key: str) -> None:
    assert Client(api_key=f" {key} ")._api_key == key


@pytest.mark.parametrize("timeout", [0, -1, "10", True])
def test_bad_timeouts(timeout: object) -> None:
    with pytest.raises((ConfigurationError, ValueError), match=r"timeout|Timeout"):
        Client(api_key=KEY, timeout=timeout)  # type: ignore[arg-type]


def test_timeout_object_checks_values() -> None:
    with pytest.raises(ValueError, match=r"Timeout\.total"):
        Timeout(total=0)


@pytest.mark.parametrize("size", [0, -3, 2.5])
def test_bad_pool_size(size: object) -> None:
    with pytest.raises(ConfigurationError, match="max_connections"):
        Client(api_key=KEY, max_connections=size)  # type: ignore[arg-type]


def test_bad_auth_scheme() -> None:
    with pytest.raises(ConfigurationError, match="auth_scheme"):
        Client(api_key=KEY, auth_scheme="  ")


def test_uncallable_hook() -> None:
    with pytest.raises(ConfigurationError, match="hook"):
        Client(api_key=KEY, event_hooks=["nope"])  # type: ignore[list-item]
