"""Look up operations of the ``ENDPOINTS`` registry and turn command-line text into arguments."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._endpoints import ENDPOINTS, SHORTCUTS, Endpoint, Param
from .errors import CommandError

_TRUE = frozenset({"true", "yes", "1", "on"})
_FALSE = frozenset({"false", "no", "0", "off"})


def find_operation(name: str) -> Endpoint:
    """The operation whose Python name (``offerings.users.list``) is ``name``.

    Methods sending an operation with other fixed body values (``users.unsuspend``) are
    found in ``SHORTCUTS``.
    """
    for endpoint in ENDPOINTS:
        if endpoint.attr == name:
            return endpoint
    if name in SHORTCUTS:
        return SHORTCUTS[name]
    known = [e.attr for e in ENDPOINTS] + list(SHORTCUTS)
    raise CommandError(f"unknown operation {name!r}{_suggest(name, known)}")


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.5)
    if not close:
        return "; run `iqualify endpoints` to list them"
    return "; did you mean " + " or ".join(repr(c) for c in close) + "?"


def _option_forms(param: Param) -> set[str]:
    forms = {param.name, param.python_name, param.python_name.replace("_", "-")}
    forms |= {f.lstrip("$") for f in list(forms)}
    return forms


def find_param(endpoint: Endpoint, option: str) -> Param:
    """The parameter that ``--option`` names: spec name, Python name, or dashed Python name."""
    for param in endpoint.params:
        if option in _option_forms(param):
            return param
    known = sorted({f"--{p.python_name.replace('_', '-')}" for p in endpoint.params})
    hint = _suggest(f"--{option}", known) if known else ""
    if known and hint.startswith("; run"):
        hint = f"; it takes {', '.join(known)}"
    elif not known:
        hint = "; it takes no parameters"
    raise CommandError(f"{endpoint.attr} has no parameter --{option}{hint}")


def parse_params(endpoint: Endpoint, args: Sequence[str]) -> dict[str, Any]:
    """``["--offering-id", "X", "--learners=false"]`` -> ``{"offering_id": "X", "learners": False}``.

    Values are converted by the parameter's registry type: ``bool`` from true/false, ``int``,
    JSON text (or ``@file.json``) for arrays and maps, text for everything else.
    """
    out: dict[str, Any] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") or arg == "--":
            raise CommandError(f"unexpected argument {arg!r}: give parameters as --name value")
        option, eq, value = arg[2:].partition("=")
        param = find_param(endpoint, option)
        if not eq:
            if i + 1 >= len(args):
                raise CommandError(f"--{option} needs a value")
            i += 1
            value = args[i]
        if param.python_name in out:
            raise CommandError(f"--{option} given twice")
        out[param.python_name] = convert(param, value)
        i += 1
    missing = [p for p in endpoint.params if p.required and p.python_name not in out]
    if missing:
        names = ", ".join(f"--{p.python_name.replace('_', '-')}" for p in missing)
        raise CommandError(f"{endpoint.attr} needs {names}")
    return out


def convert(param: Param, text: str) -> Any:
    """Turn command-line text into the value a parameter of type ``param.type`` takes."""
    kind = param.type.strip()
    label = f"--{param.python_name.replace('_', '-')}"
    if kind in ("bool", "str(true/false)"):
        low = text.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        if low == "null" and kind == "bool":
            return None
        raise CommandError(f"{label} must be true or false, got {text!r}")
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise CommandError(f"{label} must be an integer, got {text!r}") from None
    if kind.startswith("[") or kind.startswith("map") or kind == "object":
        return _json_value(label, kind, text)
    if kind == "any":
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _json_value(label: str, kind: str, text: str) -> Any:
    source = text
    if text.startswith("@"):
        try:
            source = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"{label}: cannot read {text[1:]!r}: {exc.strerror}") from None
    try:
        value = json.loads(source)
    except ValueError as exc:
        if kind == "[str]" and not text.startswith("@"):
            return [part.strip() for part in text.split(",") if part.strip()]
        raise CommandError(f"{label} must be JSON ({_describe(kind)}): {exc}") from None
    want_list = kind.startswith("[")
    if want_list and not isinstance(value, list):
        raise CommandError(f"{label} must be a JSON array ({_describe(kind)})")
    if not want_list and not isinstance(value, dict):
        raise CommandError(f"{label} must be a JSON object ({_describe(kind)})")
    return value


def _describe(kind: str) -> str:
    return re.sub(r"\s+", " ", kind)
