"""pytest plugin: the ``iqualify_fake`` fixture yields a running ``FakeIQualify``.

Registered through the ``pytest11`` entry point, so installing the package makes the fixture
available. Needs an asyncio pytest plugin (pytest-asyncio). Parametrise with
``@pytest.mark.iqualify_fake(seed="demo", api_key="test-key-0123456789", faults=Faults(...))``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from .server import FakeIQualify


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "iqualify_fake(**kwargs): arguments for the iqualify_fake fixture"
    )


try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - the fixture needs an asyncio plugin
    pass
else:

    @pytest_asyncio.fixture
    async def iqualify_fake(request: pytest.FixtureRequest) -> AsyncIterator[FakeIQualify]:
        """A running fake server (empty organisation unless the marker asks for a seed)."""
        marker = request.node.get_closest_marker("iqualify_fake")
        kwargs: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
        async with FakeIQualify(**kwargs) as fake:
            yield fake
