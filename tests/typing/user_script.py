# mypy: disallow-any-expr
"""A user's script, checked with ``mypy --strict`` by ``make test``: typed answers all the way."""

from __future__ import annotations

import asyncio
from datetime import datetime

from iqualify_async import Client
from iqualify_async.testing import FakeIQualify
from iqualify_async.types import Offering, QuizMark


def total_marks(marks: list[QuizMark]) -> float:
    return sum(float(m.mark) for m in marks if m.mark is not None)


async def main() -> None:
    async with FakeIQualify(seed="demo") as fake:
        async with Client(api_key=fake.api_key, base_url=fake.base_url) as iq:
            current: list[Offering] = await iq.offerings.list_current()
            offering = await iq.offerings.get(current[0].id)
            start: datetime | None = offering.start
            marks = await iq.offerings.analytics.quiz_marks(offering.id)
            by_learner: dict[str, float] = {}
            for mark in marks:
                email: str = mark.learner_email or "?"
                by_learner[email] = by_learner.get(email, 0.0) + float(mark.mark or 0)
            print(offering.name, start, len(marks), total_marks(marks), len(by_learner))


if __name__ == "__main__":
    asyncio.run(main())
