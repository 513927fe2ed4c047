"""Programme files' errors in the file's own words: which exercise, which key, what to write.

A programme's exercises are named as the person counts them, from 1, with their
routine: ``p.yaml, line 7: exercise 2 (hamstring), hold: 'soon' is not a duration``;
an exercise in a group of rounds is named inside its group:
``exercise 3 (rounds), its exercise 1 (cat-cow), ...``. The wording of each kind of
pydantic error is :func:`voiceguide.text.yamlfile.plain_error`'s, as in routine files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from voiceguide.text.durations import duration_words
from voiceguide.text.yamlfile import dotted, field_names, plain_error, unknown_key

#: The keys that hold a duration, whose bounds are said as durations.
_DURATIONS = {"hold", "rest"}


def data_path(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Pydantic's location as the file's keys and items: without the tag (``exercise``
    or ``rounds``) that pydantic puts after the number of an item of ``exercises``."""
    parts = list(loc)
    is_item = len(parts) > 2 and parts[0] == "exercises" and isinstance(parts[1], int)
    if is_item and parts[2] in ("exercise", "rounds"):
        del parts[2]
    return tuple(parts)


def is_rounds(item: Any) -> bool:
    """Whether an item of ``exercises`` is a group of rounds (as pydantic tells them apart)."""
    return isinstance(item, dict) and "rounds" in item


def exercise_words(number: int, routine: object = None, group: int | None = None) -> str:
    """``exercise 2 (hamstring)``; in a group of rounds that is item ``group`` of the
    programme's exercises, ``exercise 3 (rounds), its exercise 2 (hamstring)``."""
    shown = f" ({routine})" if isinstance(routine, str) and routine.strip() else ""
    words = f"exercise {number}{shown}"
    return words if group is None else f"exercise {group} (rounds), its {words}"


def _item_words(item: Any, number: int, group: int | None = None) -> str:
    if is_rounds(item) and group is None:
        return f"exercise {number} (rounds)"
    routine = item.get("routine") if isinstance(item, dict) else item
    return exercise_words(number, routine, group)


def _item(items: Any, index: Any) -> Any:
    if isinstance(items, list) and isinstance(index, int) and 0 <= index < len(items):
        return items[index]
    return None


def _where(data: Any, loc: tuple[Any, ...]) -> tuple[str, str, tuple[Any, ...]]:
    """The exercise ``loc`` is in (its words; "" for none), the kind of mapping there
    (``programme``, ``exercise`` or ``rounds``) and the rest of ``loc``, below the exercise."""
    if len(loc) < 2 or loc[0] != "exercises" or not isinstance(loc[1], int):
        return "", "programme", loc
    item = _item(data.get("exercises"), loc[1])
    rest = loc[2:]
    if not is_rounds(item):
        return _item_words(item, loc[1] + 1), "exercise", rest
    if len(rest) >= 2 and rest[0] == "exercises" and isinstance(rest[1], int):
        inner = _item(item.get("exercises"), rest[1])
        return _item_words(inner, rest[1] + 1, loc[1] + 1), "exercise", rest[2:]
    return _item_words(item, loc[1] + 1), "rounds", rest


def describer(data: Any, models: Mapping[str, Any]) -> Callable[[Any, tuple[Any, ...]], str]:
    """What :func:`voiceguide.text.yamlfile.located` says of an error in the programme
    ``data``; ``models`` are the programme's, an exercise's and a group's, by kind."""

    def describe(error: Any, loc: tuple[Any, ...]) -> str:
        exercise, kind, rest = _where(data, loc)
        problem = _problem(error, rest, kind, models[kind])
        if not exercise:
            return problem
        joint = ", " if rest and error["type"] not in ("extra_forbidden", "missing") else ": "
        return f"{exercise}{joint}{problem}"

    return describe


def _problem(error: Any, loc: tuple[Any, ...], kind: str, model: Any) -> str:
    kind_of_error = error["type"]
    field = dotted(loc, "")
    if kind_of_error == "extra_forbidden":
        return unknown_key(str(loc[-1]), field_names(model, loc[:-1]))
    if kind_of_error == "missing":
        where = "to the file" if kind == "programme" and len(loc) == 1 else "under it"
        such = ", such as routine: hamstring" if loc[-1] == "routine" else ""
        return f"{loc[-1]} is required; add {loc[-1]}: {where}{such}"
    if not loc and kind == "exercise":
        return (
            "write a routine's name, or routine: and the keys under it, each on a line "
            f"of its own (not {_kind_of(error.get('input'))})"
        )
    if loc == ("exercises",) and kind_of_error == "too_short":
        return f"{field}: the list is empty; write at least one exercise, such as - hamstring"
    if loc == ("sides",) and kind_of_error == "too_short":
        return f"{field}: the list is empty; name one side or more, or leave sides: out for all"
    if loc and loc[-1] in _DURATIONS:
        bound = _duration_bound(error)
        if bound:
            return f"{field}: {bound}"
    return f"{field}: {plain_error(error, field_names(model, loc))}"


def _duration_bound(error: Any) -> str:
    """``5h is too long; the most it may be is two hours``, for a duration out of range."""
    given, ctx = error.get("input"), error.get("ctx") or {}
    if error["type"] not in ("less_than_equal", "greater_than_equal"):
        return ""
    given = duration_words(float(given)) if isinstance(given, int | float) else str(given)
    if error["type"] == "less_than_equal":
        return f"{given} is too long; the most it may be is {duration_words(float(ctx['le']))}"
    if error["type"] == "greater_than_equal":
        return f"{given} is too short; the least it may be is {duration_words(float(ctx['ge']))}"
    return ""


def _kind_of(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool) or value is None:
        return str(value).lower() if value is not None else "nothing"
    return repr(value) if isinstance(value, str) else str(value)
