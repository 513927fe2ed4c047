"""A Jinja sandbox with limits on time and size, for templates people share.

Jinja's own sandbox stops templates reaching unsafe attributes, but not from
running for hours or building a string of a terabyte. Here every render has a
deadline, checked on each line a template runs, and every value a template
builds (by an operator, a call or a filter) is checked against a size limit
before it is built where it can be, and after otherwise.
"""

from __future__ import annotations

import functools
import itertools
import re
import sys
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import jinja2
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import generate_lorem_ipsum

MAX_RENDER_SECONDS = 2.0  # per rendered line
MAX_OUTPUT_CHARS = 100_000  # what one render may produce, before spaces are tidied
MAX_VALUE_CHARS = 100_000  # the longest string, list or tuple a template may build
MAX_NUMBER = 100_000  # the largest number a template may pass to a call or filter
MAX_INT_BITS = 4_096  # the largest integer a template may compute
MAX_RANGE = 10_000  # items in range()

_BIG_NUMBER = re.compile(r"\d{6,}")  # a width or precision of a million or more


class RenderLimitError(jinja2.exceptions.SecurityError):
    """A template ran too long or built something too big."""


class LimitedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with limits on time and on the size of values."""

    intercepted_binops = frozenset({"*", "**", "+", "%", "//"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals["range"] = _limited_range
        self.globals["lipsum"] = _limited_lipsum(generate_lorem_ipsum)
        self._deadline: float | None = None

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        self.check_time()
        _check_binop(operator, left, right)
        return _checked(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        __self.check_time()
        _check_arguments(args, kwargs)
        _check_replace(__obj, args)
        args = _check_join(__obj, args)
        return _checked(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_format_string(value.__self__)
        return wrapped

    def add_filter(self, name: str, func: Callable[..., Any]) -> None:
        """Install a filter, wrapped in the same checks as calls."""
        self.filters[name] = self._limit_filter(name, func)

    def limit_filters(self) -> None:
        for name, func in list(self.filters.items()):
            self.filters[name] = self._limit_filter(name, func)

    def _limit_filter(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        if getattr(func, "_voiceguide_limited", False):
            return func
        takes_environment = getattr(func, "jinja_pass_arg", None)

        @functools.wraps(func)
        def limited(*args: Any, **kwargs: Any) -> Any:
            self.check_time()
            # Context or environment first (if the filter takes it), then the value.
            rest = args[2:] if takes_environment is not None else args[1:]
            value = args[1] if takes_environment is not None else args[0] if args else None
            _check_arguments(rest, kwargs)
            if name == "replace" and len(rest) >= 2:
                _check_replace_sizes(str(value), str(rest[0]), str(rest[1]))
            if name == "join":
                items = _bounded_list(value)
                _check_join_sizes(str(rest[0]) if rest else "", items)
                args = (args[0], items, *args[2:]) if takes_environment is not None else args
            if name == "format" and isinstance(value, str):
                _check_format_string(value)
            return _checked(func(*args, **kwargs))

        limited._voiceguide_limited = True  # type: ignore[attr-defined]
        return limited

    # --- time ------------------------------------------------------------------------

    def check_time(self) -> None:
        if self._deadline is not None and time.monotonic() > self._deadline:
            self._deadline = None
            raise RenderLimitError(
                f"the template took more than {MAX_RENDER_SECONDS:g} seconds to render; "
                "it may loop without end"
            )

    def generate(self, template: jinja2.Template, context: Any) -> Iterator[str]:
        """Render ``template`` piece by piece, within the time and output limits."""
        previous = sys.gettrace()
        self._deadline = time.monotonic() + MAX_RENDER_SECONDS
        sys.settrace(self._trace)
        try:
            produced = 0
            for piece in template.generate(context):
                produced += len(piece)
                if produced > MAX_OUTPUT_CHARS:
                    raise RenderLimitError(
                        f"the template produced more than {MAX_OUTPUT_CHARS} characters"
                    )
                yield piece
        finally:
            sys.settrace(previous)
            self._deadline = None

    def _trace(self, frame: FrameType, event: str, arg: Any) -> Any:
        """Trace only the code compiled from templates, checking the deadline on each line."""
        if frame.f_globals.get("environment") is self:
            return self._trace_line
        return None

    def _trace_line(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            self.check_time()
        return self._trace_line


def _limited_range(*args: int) -> range:
    _check_arguments(args, {})
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise RenderLimitError(f"range() may have at most {MAX_RANGE} items")
    return result


def _limited_lipsum(lipsum: Callable[..., Any]) -> Callable[..., Any]:
    def limited(n: int = 5, *args: Any, **kwargs: Any) -> Any:
        if n > 10:
            raise RenderLimitError("lipsum() may make at most 10 paragraphs")
        return lipsum(n, *args, **kwargs)

    return limited


def _too_big(what: str) -> RenderLimitError:
    return RenderLimitError(f"{what}; a template may build at most {MAX_VALUE_CHARS} characters")


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


def _checked(value: Any) -> Any:
    size = _size(value)
    if size is not None and size > MAX_VALUE_CHARS:
        raise _too_big(f"a value of {size} items")
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise RenderLimitError("a number in the template is too large")
    return value


def _check_binop(operator: str, left: Any, right: Any) -> None:
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            size = _size(seq)
            if size is not None and isinstance(times, int) and size * times > MAX_VALUE_CHARS:
                raise _too_big(f"repeating {size} items {times} times")
        both_int = isinstance(left, int) and isinstance(right, int)
        if both_int and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise RenderLimitError("a number in the template is too large")
    elif operator == "**":
        if isinstance(left, int | float) and isinstance(right, int | float):
            base_bits = abs(int(left)).bit_length() if abs(left) >= 2 else 1
            if abs(right) > MAX_INT_BITS or base_bits * abs(right) > MAX_INT_BITS:
                raise RenderLimitError("a number in the template is too large")
    elif operator == "+":
        first, second = _size(left), _size(right)
        if first is not None and second is not None and first + second > MAX_VALUE_CHARS:
            raise _too_big(f"joining {first} and {second} items")
    elif operator == "%" and isinstance(left, str):
        _check_format_string(left)


def _check_arguments(args: Any, kwargs: dict[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if number and abs(value) > MAX_NUMBER:
            raise RenderLimitError(
                f"the number {value} is too large; numbers given to a call or filter "
                f"may be at most {MAX_NUMBER}"
            )
        size = _size(value)
        if size is not None and size > MAX_VALUE_CHARS:
            raise _too_big(f"an argument of {size} items")


def _check_format_string(text: str) -> None:
    if _BIG_NUMBER.search(text):
        raise RenderLimitError("a format with a width or precision of a million or more")


def _check_replace(obj: Any, args: tuple[Any, ...]) -> None:
    if _is_str_method(obj, "replace") and len(args) >= 2:
        _check_replace_sizes(obj.__self__, str(args[0]), str(args[1]))


def _check_replace_sizes(text: str, old: str, new: str) -> None:
    if old == "":
        worst = len(text) + (len(text) + 1) * len(new)
    else:
        worst = len(text) // len(old) * len(new)
    if worst > MAX_VALUE_CHARS:
        raise _too_big(f"a replace() that may make {worst} characters")


def _check_join(obj: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The arguments of ``str.join``, its items made a list once their size is checked."""
    if _is_str_method(obj, "join") and len(args) == 1:
        items = _bounded_list(args[0])
        _check_join_sizes(obj.__self__, items)
        return (items,)
    return args


def _is_str_method(obj: Any, name: str) -> bool:
    owner = getattr(obj, "__self__", None)
    return getattr(obj, "__name__", None) == name and isinstance(owner, str)


def _bounded_list(items: Any) -> Any:
    """``items`` as a list, if it is iterable and has no more than the limit of items."""
    try:
        iterator = iter(items)
    except TypeError:
        return items
    out = list(itertools.islice(iterator, MAX_VALUE_CHARS + 1))
    if len(out) > MAX_VALUE_CHARS:
        raise _too_big(f"a join() of more than {MAX_VALUE_CHARS} items")
    return out


def _check_join_sizes(separator: str, items: Any) -> None:
    if not isinstance(items, list):
        return
    worst = len(separator) * max(len(items) - 1, 0) + sum(
        len(x) if isinstance(x, str) else 16 for x in items
    )
    if worst > MAX_VALUE_CHARS:
        raise _too_big(f"a join() that makes about {worst} characters")
