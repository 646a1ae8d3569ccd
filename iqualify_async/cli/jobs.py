"""What the job commands share: the analytics kinds and checking the ones asked for."""

from __future__ import annotations

from collections.abc import Sequence

from ..bulk.analytics import ALL_KINDS
from ..bulk.analytics import check_kinds as _check_kinds
from .errors import CommandError

KINDS = ALL_KINDS


def check_kinds(kinds: Sequence[str]) -> list[str]:
    """The kinds asked for (all when none); one clear error naming unknown ones."""
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise CommandError(f"unknown --kind {', '.join(bad)}; choose from {', '.join(KINDS)}")
    return _check_kinds(kinds)
