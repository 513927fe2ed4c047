"""Unit tests for voiceguide.text.durations: parsing durations and saying them in words."""

from __future__ import annotations

import datetime
import math

import pytest

from voiceguide.errors import DurationError, VoiceguideError
from voiceguide.text.durations import (
    EXAMPLES,
    duration_words,
    format_compact,
    number_words,
    parse_duration,
)

# --- parse_duration: accepted forms ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5m", 300.0),
        ("90s", 90.0),
        ("1m30s", 90.0),
        ("2:30", 150.0),
        ("1h", 3600.0),
        ("300", 300.0),
        ("1", 1.0),
        ("0:01", 1.0),
        ("1:02:03", 3723.0),
        ("90:00", 5400.0),
        ("2:30.5", 150.5),
        ("1.5m", 90.0),
        ("0.5s", 0.5),
        ("2.5", 2.5),
        ("1h30m", 5400.0),
        ("1h1m1s", 3661.0),
        ("1h30s", 3630.0),
        ("1m 30s", 90.0),
        ("5 m", 300.0),
        ("5 min", 300.0),
        ("5 minutes", 300.0),
        ("1 minute", 60.0),
        ("30 sec", 30.0),
        ("30 seconds", 30.0),
        ("1 second", 1.0),
        ("2 hours", 7200.0),
        ("1 hour 2 min", 3720.0),
        # The abbreviations people write (issue 13).
        ("2 mins", 120.0),
        ("30 secs", 30.0),
        ("1 hr", 3600.0),
        ("2 hrs", 7200.0),
        ("1hr 30mins", 5400.0),
        ("1 min 30 secs", 90.0),
    ],
)
def test_parse_duration_accepts_common_forms(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["5M", " 5m ", "\t90S\n", "1M30S", "5 Minutes"])
def test_parse_duration_ignores_case_and_surrounding_space(text: str) -> None:
    assert parse_duration(text) in (300.0, 90.0)
    assert parse_duration(text) == parse_duration(text.strip().lower())


@pytest.mark.parametrize(("value", "seconds"), [(300, 300.0), (2.5, 2.5), (0.1, 0.1)])
def test_parse_duration_accepts_positive_numbers(value: float, seconds: float) -> None:
    result = parse_duration(value)
    assert result == seconds
    assert isinstance(result, float)


def test_parse_duration_returns_float_for_text() -> None:
    assert isinstance(parse_duration("300"), float)
    assert isinstance(parse_duration("5m"), float)


# --- parse_duration: rejected input ------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "5 parsecs",
        "",
        "   ",
        "abc",
        "nan",
        "NaN",
        "inf",
        "infinity",
        "1e3",
        "m",
        "s",
        "h",
        "5x",
        "5 m s",
        "5m5m",
        "30s1m",  # units out of order
        "1m30",  # a bare number after a unit is ambiguous
        "1h30",
        "2:60",  # seconds on a clock must be 00 to 59
        "2:5",  # ... and written with two digits
        ":30",
        "2:",
        "1:2:3:4",
        "+5m",
        "5m-",
        "five minutes",
        "5,5m",
        "2 minss",
        "30 secss",
        "1 hrs s",
    ],
)
def test_parse_duration_rejects_nonsense_with_examples(text: str) -> None:
    with pytest.raises(DurationError) as info:
        parse_duration(text)
    message = str(info.value)
    assert repr(text) in message
    assert "is not a duration" in message
    assert EXAMPLES in message


@pytest.mark.parametrize(
    "text", ["0", "0s", "0m", "0:00", "0.0", "-1m", "-5", "-0", " -1m", "-2:30", "-inf"]
)
def test_parse_duration_rejects_zero_and_negative_text(text: str) -> None:
    with pytest.raises(DurationError, match="must be longer than zero") as info:
        parse_duration(text)
    assert repr(text) in str(info.value)


@pytest.mark.parametrize("value", [0, 0.0, -1, -0.5, -300])
def test_parse_duration_rejects_zero_and_negative_numbers(value: float) -> None:
    with pytest.raises(DurationError, match="must be longer than zero"):
        parse_duration(value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_parse_duration_rejects_non_finite_numbers(value: float) -> None:
    with pytest.raises(DurationError, match="is not a duration"):
        parse_duration(value)


def test_parse_duration_rejects_text_that_overflows_to_infinity() -> None:
    with pytest.raises(DurationError, match="is not a duration"):
        parse_duration("9" * 400)
    with pytest.raises(DurationError, match="is not a duration"):
        parse_duration("9" * 400 + "h")


@pytest.mark.parametrize("value", [True, False])
def test_parse_duration_rejects_booleans(value: bool) -> None:
    # YAML turns `pause: yes` into True; it must not silently become one second.
    with pytest.raises(DurationError, match="is not a duration"):
        parse_duration(value)


@pytest.mark.parametrize("value", [None, [5], {"m": 5}, datetime.date(2024, 1, 1)])
def test_parse_duration_rejects_other_types_with_duration_error(value: object) -> None:
    # Values a YAML file can produce (null, a list, a mapping, a date) must give a
    # DurationError, which pydantic reports, not an AttributeError.
    with pytest.raises(DurationError, match="is not a duration"):
        parse_duration(value)  # type: ignore[arg-type]


def test_duration_error_is_a_value_error_and_a_voiceguide_error() -> None:
    with pytest.raises(DurationError) as info:
        parse_duration("abc")
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, VoiceguideError)


def test_parse_duration_messages_are_one_line() -> None:
    for bad in ("abc", "-1m", "0"):
        with pytest.raises(DurationError) as info:
            parse_duration(bad)
        assert "\n" not in str(info.value)


# --- format_compact ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (300, "5m"),
        (90, "1m30s"),
        (45, "45s"),
        (3600, "1h"),
        (3661, "1h1m1s"),
        (3630, "1h30s"),
        (5400, "1h30m"),
        (60, "1m"),
        (1, "1s"),
        (0, "0s"),
        (0.4, "0s"),
        (59.6, "1m"),
        (89.7, "1m30s"),
        (7200, "2h"),
    ],
)
def test_format_compact(seconds: float, text: str) -> None:
    assert format_compact(seconds) == text


@pytest.mark.parametrize("seconds", [1, 30, 59, 60, 61, 90, 300, 599, 3599, 3600, 3661, 7200])
def test_format_compact_round_trips_through_parse_duration(seconds: int) -> None:
    assert parse_duration(format_compact(seconds)) == seconds


# --- number_words ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "zero"),
        (1, "one"),
        (7, "seven"),
        (10, "ten"),
        (13, "thirteen"),
        (19, "nineteen"),
        (20, "twenty"),
        (21, "twenty-one"),
        (40, "forty"),
        (42, "forty-two"),
        (99, "ninety-nine"),
        (100, "one hundred"),
        (101, "one hundred and one"),
        (110, "one hundred and ten"),
        (250, "two hundred and fifty"),
        (999, "nine hundred and ninety-nine"),
        (1000, "one thousand"),
        (1001, "one thousand and one"),
        (1099, "one thousand and ninety-nine"),
        (1100, "one thousand one hundred"),
        (1234, "one thousand two hundred and thirty-four"),
        (21000, "twenty-one thousand"),
        (100_000, "one hundred thousand"),
        (999_999, "nine hundred and ninety-nine thousand nine hundred and ninety-nine"),
    ],
)
def test_number_words(n: int, words: str) -> None:
    assert number_words(n) == words


@pytest.mark.parametrize("n", [-1, 1_000_000, 10**9])
def test_number_words_rejects_out_of_range(n: int) -> None:
    with pytest.raises(ValueError, match="0 to 999999") as info:
        number_words(n)
    assert str(n) in str(info.value)


def test_number_words_never_says_zero_inside_a_larger_number() -> None:
    for n in range(1, 2200):
        assert "zero" not in number_words(n), n


# --- duration_words ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (300, "five minutes"),
        (90, "one minute and thirty seconds"),
        (60, "one minute"),
        (1, "one second"),
        (2, "two seconds"),
        (45, "forty-five seconds"),
        (61, "one minute and one second"),
        (3600, "one hour"),
        (7200, "two hours"),
        (3660, "one hour and one minute"),
        (3601, "one hour and one second"),
        (3661, "one hour, one minute and one second"),
        (7322, "two hours, two minutes and two seconds"),
        (0, "zero seconds"),
    ],
)
def test_duration_words(seconds: float, words: str) -> None:
    assert duration_words(seconds) == words


def test_duration_words_rounds_to_the_nearest_second() -> None:
    assert duration_words(89.6) == "one minute and thirty seconds"
    assert duration_words(90.4) == "one minute and thirty seconds"
    assert duration_words(0.4) == "zero seconds"
    # Rounding happens before splitting into units: never "sixty seconds".
    assert duration_words(59.6) == "one minute"
    assert duration_words(3599.7) == "one hour"


def test_duration_words_for_every_parsed_example() -> None:
    assert duration_words(parse_duration("5m")) == "five minutes"
    assert duration_words(parse_duration("1m30s")) == "one minute and thirty seconds"
    assert duration_words(parse_duration("2:30")) == "two minutes and thirty seconds"
    assert duration_words(parse_duration("1h")) == "one hour"


def test_duration_words_uses_singular_only_for_one() -> None:
    for seconds in range(1, 3 * 3600, 7):
        words = duration_words(seconds)
        for unit in ("hour", "minute", "second"):
            for piece in words.replace(" and ", ", ").split(", "):
                number, _, name = piece.rpartition(" ")
                if name == unit:
                    assert number == "one", words
                if name == unit + "s":
                    assert number != "one", words
