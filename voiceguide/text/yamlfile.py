"""Routine and batch files: strict, safe YAML, and validation errors that say where.

Anchors, aliases and repeated keys are refused; a pydantic validation error
becomes one line naming the file, the line and the problem.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import Any

import yaml
from pydantic import ValidationError


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
        mark = e.problem_mark
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise error(f"{source}{where}: invalid YAML: {e.problem}") from None
    except yaml.reader.ReaderError as e:  # a character YAML does not allow, such as NUL
        at = text[: e.position].count("\n") + 1
        raise error(
            f"{source}, line {at}: invalid YAML: unacceptable character #x{e.character:04x}"
        ) from None
    except yaml.YAMLError as e:
        raise error(f"{source}: invalid YAML: {e}") from None
    return data, node


def located(
    e: ValidationError,
    node: Any,
    source: str,
    describe: Callable[[Any, tuple[Any, ...]], str],
) -> str:
    """One line for a validation error: the file, the line of the value, the problem."""
    errors = e.errors()
    # A misspelt key is also reported as a missing one: name the misspelling.
    error = next((x for x in errors if x["type"] == "extra_forbidden"), errors[0])
    loc = tuple(error["loc"])
    line = line_of(node, loc)
    where = f", line {line}" if line else ""
    return f"{source}{where}: {describe(error, loc)}"


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


def child_of(node: Any, part: Any) -> Any:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part:
                return value if isinstance(value, yaml.Node) else key
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None
