"""Helpers that only tests use: reference computations and views of library values."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import Any

import pytest

from voiceguide.plan.layers import Envelope
from voiceguide.text.routine import Routine


def gain_at(envelope: Envelope, position: int) -> float:
    """The value of ``envelope`` at sample ``position``, one sample at a time: a
    reference for what the mixer computes in bulk."""
    index = bisect.bisect_right([x for x, _ in envelope], position)
    if index == 0:
        return envelope[0][1]
    if index == len(envelope):
        return envelope[-1][1]
    (x0, y0), (x1, y1) = envelope[index - 1], envelope[index]
    return y0 + (y1 - y0) * (position - x0) / (x1 - x0)


def iter_texts(routine: Routine) -> Iterator[tuple[str, str]]:
    """Every templated text field of a routine as (field name, text)."""
    yield "why", routine.why
    for i, step in enumerate(routine.steps):
        yield f"steps[{i}]", step.text
    for i, reminder in enumerate(routine.reminders):
        yield f"reminders[{i}]", reminder.text
    yield "release", routine.release
    yield "outro", routine.outro


def first_arguments(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[Any]:
    """The first argument of each call to ``owner.name`` from now on, in order; every
    call goes through to it."""
    calls: list[Any] = []
    real = getattr(owner, name)

    def recording(first: Any, *rest: Any, **named: Any) -> Any:
        calls.append(first)
        return real(first, *rest, **named)

    monkeypatch.setattr(owner, name, recording)
    return calls
