"""Durations: parsing what people type, and saying them back in words."""

from __future__ import annotations

import re

from voiceguide.errors import DurationError

_UNITS = re.compile(
    r"^(?:(?P<h>\d+(?:\.\d+)?)\s*h(?:ours?|rs?)?)?\s*"
    r"(?:(?P<m>\d+(?:\.\d+)?)\s*m(?:ins?|inutes?)?)?\s*"
    r"(?:(?P<s>\d+(?:\.\d+)?)\s*s(?:ecs?|econds?)?)?$"
)
_CLOCK = re.compile(r"^(?:(?P<h>\d+):)?(?P<m>\d+):(?P<s>[0-5]\d(?:\.\d+)?)$")
_PLAIN = re.compile(r"^\d+(?:\.\d+)?$")

EXAMPLES = "5m, 90s, 1m30s, 2:30 or 300"


def parse_duration(value: str | float) -> float:
    """Parse ``5m``, ``90s``, ``1m30s``, ``1h``, ``2:30`` or plain seconds into seconds.

    The result is always greater than zero.
    """
    if isinstance(value, bool):
        raise DurationError(f"{value!r} is not a duration; use e.g. {EXAMPLES}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif not isinstance(value, str):
        # e.g. null, a list or a date from a YAML file: say so, don't crash on .strip()
        raise DurationError(f"{value!r} is not a duration; use e.g. {EXAMPLES}")
    else:
        text = value.strip().lower()
        seconds = _parse_text(text, value)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        raise DurationError(f"{value!r} is not a duration; use e.g. {EXAMPLES}")
    if seconds <= 0:
        raise DurationError(f"a duration must be longer than zero, got {value!r}")
    return seconds


def _parse_text(text: str, original: str) -> float:
    if text.startswith("-"):
        raise DurationError(f"a duration must be longer than zero, got {original!r}")
    if _PLAIN.match(text):
        return float(text)
    clock = _CLOCK.match(text)
    if clock:
        return float(clock["h"] or 0) * 3600 + float(clock["m"]) * 60 + float(clock["s"])
    units = _UNITS.match(text)
    if text and units and any(units.groupdict().values()):
        return float(units["h"] or 0) * 3600 + float(units["m"] or 0) * 60 + float(units["s"] or 0)
    raise DurationError(f"{original!r} is not a duration; use e.g. {EXAMPLES}")


def format_compact(seconds: float) -> str:
    """``300`` -> ``5m``, ``90`` -> ``1m30s``, ``45`` -> ``45s``, ``3600`` -> ``1h``."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if n]
    return "".join(parts) or "0s"


_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n: int) -> str:
    """``42`` -> ``forty-two``. Whole numbers from 0 to 999,999."""
    if n < 0 or n >= 1_000_000:
        raise ValueError(f"number_words supports 0 to 999999, got {n}")
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" and {number_words(rest)}" if rest else "")
    thousands, rest = divmod(n, 1000)
    joiner = " and " if 0 < rest < 100 else " "
    return f"{number_words(thousands)} thousand" + (joiner + number_words(rest) if rest else "")


def counted(n: int, noun: str) -> str:
    """``3 exercises``, ``1 exercise``: a count and its noun, in the right number."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def duration_words(seconds: float) -> str:
    """Say a duration: ``90`` -> ``one minute and thirty seconds``.

    Rounded to the nearest whole second.
    """
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{number_words(n)} {unit}{'' if n == 1 else 's'}"
        for n, unit in ((hours, "hour"), (minutes, "minute"), (secs, "second"))
        if n
    ]
    if not parts:
        return "zero seconds"
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]
