"""Routine and batch files: strict, safe YAML, and validation errors that say where.

Anchors, aliases and repeated keys are refused; a YAML or pydantic validation
error becomes one line naming the file, the line, the problem and what to write
instead (:func:`plain_error` says each kind of pydantic error in plain words,
never naming a class or showing a regular expression).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError


class StrictLoader(yaml.SafeLoader):
    """Safe YAML without anchors and aliases (they allow 'billion laughs' bombs)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.MarkedYAMLError(
                None, None, "anchors and aliases (&, *) are not allowed", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[str] = set()
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                if key.value in seen:
                    raise yaml.MarkedYAMLError(
                        None, None, f"the key {key.value!r} appears twice", key.start_mark
                    )
                seen.add(key.value)
        return super().construct_mapping(node, deep)


def load_yaml(text: str, source: str, error: type[Exception]) -> tuple[Any, Any]:
    """The data of YAML ``text`` and its node tree (for line numbers); ``error`` on bad YAML."""
    try:
        node = yaml.compose(text, Loader=StrictLoader)
        data = StrictLoader(text).get_single_data() if node is not None else None
    except yaml.MarkedYAMLError as e:
        problem, mark = _yaml_problem(e)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise error(f"{source}{where}: invalid YAML: {problem}") from None
    except yaml.reader.ReaderError as e:  # a character YAML does not allow, such as NUL
        at = text[: e.position].count("\n") + 1
        raise error(
            f"{source}, line {at}: invalid YAML: unacceptable character #x{e.character:04x}"
        ) from None
    except yaml.YAMLError as e:
        raise error(f"{source}: invalid YAML: {e}") from None
    return data, node


#: What to write instead, for YAML's commonest complaints: (the start of its problem,
#: our words, whether the line is where the construct began rather than where it broke).
_YAML_HINTS = (
    ("found character '\\t'", "a tab in the indentation; indent with spaces, not tabs", False),
    (
        "mapping values are not allowed here",
        "a colon followed by a space starts a key; if the colon is part of a text, put the "
        'text in quotes (title: "Hip: the stretch"), otherwise check the indentation',
        False,
    ),
    ("found unexpected end of stream", "a quote opened here is never closed; close it", True),
    ("expected ',' or ']'", "a list opened here with [ is not closed with ]", True),
    ("expected ',' or '}'", "a mapping opened here with { is not closed with }", True),
    (
        "expected <block end>",
        "this line is not indented as the lines above it; indent the items of one list "
        "or mapping by the same number of spaces",
        False,
    ),
    (
        "could not find expected ':'",
        "this line is neither key: value nor - item; end each key with a colon, or put a "
        "text that runs over several lines in quotes",
        True,
    ),
)


def _yaml_problem(e: yaml.MarkedYAMLError) -> tuple[str, Any]:
    """YAML's problem in our words (where we have them), and the mark of its line."""
    problem = str(e.problem)
    for start, words, at_context in _YAML_HINTS:
        if problem.startswith(start):
            mark = e.context_mark if at_context and e.context_mark is not None else e.problem_mark
            return words, mark
    return problem, e.problem_mark


def located(
    e: ValidationError,
    node: Any,
    source: str,
    describe: Callable[[Any, tuple[Any, ...]], str],
    path: Callable[[tuple[Any, ...]], tuple[Any, ...]] | None = None,
) -> str:
    """One line for a validation error: the file, the line of the value, the problem.

    ``path`` turns pydantic's location into the file's keys and items (leaving out,
    say, the tags of a union); ``describe`` is given that."""
    errors = e.errors()
    # A misspelt key is also reported as a missing one: name the misspelling.
    error = next((x for x in errors if x["type"] == "extra_forbidden"), errors[0])
    loc = tuple(error["loc"]) if path is None else path(tuple(error["loc"]))
    line = line_of(node, loc)
    if error["type"] == "extra_forbidden":  # the key's line, not its value's (a block's)
        line = _key_line(node, loc) or line
    where = f", line {line}" if line else ""
    return f"{source}{where}: {describe(error, loc)}"


def plain_error(error: Any, keys: Sequence[str] = ()) -> str:
    """A pydantic error (one of ``ValidationError.errors()``) in plain words: what is
    wrong and what to write instead, by the kind of error, never naming a class or
    showing a pattern. ``keys``: the keys of the mapping expected there, if one is."""
    kind, given, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    got = f" (not {_shown(given)})"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        such = f", such as {_keys(keys)}" if keys else ""
        return f"write keys under it, indented on lines of their own{such}{got}"
    if kind in ("list_type", "tuple_type", "set_type"):
        return f"write a list: each item on a line of its own, starting with '- '{got}"
    if kind == "string_type":
        return f"write a text here{got}; put it in quotes if it starts with [ or {{"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"write a whole number{got}"
    if kind in ("float_type", "float_parsing"):
        return f"write a number{got}"
    if kind in ("bool_type", "bool_parsing"):
        return f"write true or false{got}"
    if kind == "string_too_short":
        least = ctx.get("min_length", 1)
        return (
            "write some text; it may not be empty"
            if least == 1
            else f"write {least} or more characters"
        )
    if kind == "string_too_long":
        return f"it has {len(str(given))} characters; write at most {ctx.get('max_length')}"
    if kind == "too_short":
        return f"write at least {_items(ctx.get('min_length', 1))}"
    if kind == "too_long":
        most = _items(ctx.get("max_length", 0))
        return f"it has {ctx.get('actual_length')} items; write at most {most}"
    bounds = {
        "less_than_equal": ("le", "at most"),
        "less_than": ("lt", "less than"),
        "greater_than_equal": ("ge", "at least"),
        "greater_than": ("gt", "more than"),
    }
    if kind in bounds:
        key, words = bounds[kind]
        return f"{given} is out of range; write {words} {ctx.get(key)}"
    if kind == "literal_error":
        return f"write one of {ctx.get('expected')}{got}"
    if kind == "string_pattern_mismatch":
        return f"{_shown(given)} has characters that are not allowed here"
    if kind == "value_error" and isinstance(ctx.get("error"), Exception):
        return str(ctx["error"])
    message = str(error["msg"]).removeprefix("Value error, ")
    return re.sub(r" or instance of \w+", "", message)


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "keys"
    if isinstance(value, list | tuple):
        return "a list"
    if value is None:
        return "nothing"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _keys(keys: Sequence[str]) -> str:
    shown = [f"{k}:" for k in keys[:3]]
    return ", ".join(shown) + (" ..." if len(keys) > 3 else "")


def _items(count: int) -> str:
    return f"{count} item" if count == 1 else f"{count} items"


def unknown_key(key: str, options: Sequence[str]) -> str:
    """What to say of a key the file may not have: the nearest valid one, or them all."""
    close = difflib.get_close_matches(key, options, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(options)}"
    return f"unknown key {key!r}{hint}"


def line_of(node: Any, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at ``loc`` (or its nearest parent)."""
    line: int | None = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        child = child_of(node, part)
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def _key_line(node: Any, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the key ``loc[-1]`` in the mapping at ``loc[:-1]``."""
    for part in loc[:-1]:
        node = child_of(node, part) if node is not None else None
    if isinstance(node, yaml.MappingNode):
        for key, _ in node.value:
            if key.value == loc[-1]:
                return int(key.start_mark.line) + 1
    return None


def child_of(node: Any, part: Any) -> Any:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part:
                return value if isinstance(value, yaml.Node) else key
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None


def dotted(loc: tuple[Any, ...], empty: str) -> str:
    """``steps 2, pause``, ``hold.default``, ``reminders 1``: items numbered from 1;
    ``empty`` names the whole file."""
    out = ""
    parts = [p for p in loc if not str(p).startswith(("function-", "function_"))]
    for i, part in enumerate(parts):
        if isinstance(part, int):
            out += f" {part + 1}"
        elif i and isinstance(parts[i - 1], int):
            if part != "text" or i < len(parts) - 1:  # steps 1 is its text
                out += f", {part}"
        else:
            out += ("." if out else "") + str(part)
    return out or empty


def field_names(model: Any, loc: tuple[Any, ...]) -> list[str]:
    """The keys of the mapping at ``loc`` in a file that ``model`` describes."""
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            break
        annotation = field.annotation
        for candidate in (annotation, *getattr(annotation, "__args__", ())):
            inner = getattr(candidate, "__origin__", None) and getattr(candidate, "__args__", ())
            for option in (candidate, *(inner or ())):
                meta = getattr(option, "__origin__", option)
                if isinstance(meta, type) and issubclass(meta, BaseModel):
                    model = meta
    return sorted(model.model_fields)
