"""Resolution and checks of client settings (API key, base URL)."""

from __future__ import annotations

import ipaddress
import os
from typing import Final

from yarl import URL

from ._redact import KEY_RULE, key_problem
from .errors import ConfigurationError

API_KEY_ENV: Final = "IQUALIFY_API_KEY"
BASE_URL_ENV: Final = "IQUALIFY_BASE_URL"
DEFAULT_BASE_URL: Final = "https://api.iqualify.com/v1"


def resolve_api_key(api_key: str | None) -> str:
    """The key given, else ``$IQUALIFY_API_KEY``; a clear error when neither is set."""
    if api_key is None:
        api_key = os.environ.get(API_KEY_ENV) or None
    if api_key is None:
        raise ConfigurationError(
            f"no API key: pass api_key=... to Client or set the {API_KEY_ENV} environment variable"
        )
    if not isinstance(api_key, str) or not api_key.strip():
        raise ConfigurationError("api_key must be a non-empty string")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in api_key):
        raise ConfigurationError("api_key must not contain control characters or line breaks")
    api_key = api_key.strip()
    problem = key_problem(api_key)
    if problem is not None:
        raise ConfigurationError(
            f"api_key does not look like an API key: {problem}. A key must have {KEY_RULE}, "
            "so that it can be hidden wherever it appears without mangling other text."
        )
    return api_key


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_base_url(base_url: str | None, *, allow_insecure_http: bool) -> URL:
    """The URL given, else ``$IQUALIFY_BASE_URL``, else the public API; checked and normalised."""
    text = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    try:
        url = URL(text)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"base_url is not a valid URL: {text!r}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(f"base_url must be an absolute http(s) URL, got {text!r}")
    if url.query_string or url.fragment:
        raise ConfigurationError(f"base_url must not have a query or fragment: {text!r}")
    if url.user or url.password:
        raise ConfigurationError("base_url must not contain credentials")
    if url.scheme == "http" and not allow_insecure_http and not is_loopback_host(url.host):
        raise ConfigurationError(
            f"refusing plain http:// to {url.host}: the API key would cross the network "
            "unencrypted. Use https://, or pass allow_insecure_http=True if you must."
        )
    return url.with_path(url.path.rstrip("/"))
