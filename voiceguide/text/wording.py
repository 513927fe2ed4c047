"""Cue wording: every spoken line is rendered from a Jinja template.

The built-in templates ship in ``voiceguide/templates``; a folder given with
``--templates`` overrides any subset of them. Templates and the text in routine
files are rendered in Jinja's sandbox with strict undefined variables, because
people share them: a typo becomes an error naming the file and line, never
silent or empty speech.
"""

from __future__ import annotations

import difflib
import re
import traceback
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from voiceguide.errors import TemplateError
from voiceguide.files import atomic_write_bytes
from voiceguide.text.durations import duration_words, number_words
from voiceguide.text.markup import neutralise_markup
from voiceguide.text.sandbox import LimitedSandbox, RenderLimitError

if TYPE_CHECKING:
    from voiceguide.text.routine import Place

#: Where an error is: the place, given the line of the template or text (if known).
Where = Callable[[int | None], str]

#: Each built-in template, and what it says.
TEMPLATES: dict[str, str] = {
    "intro": "welcomes the listener at the start of the session",
    "side_start": "introduces the set-up of each side",
    "step": "speaks one set-up step",
    "hold_start": "comes just before the start chime of each hold",
    "reminder": "speaks one reminder during a hold",
    "halfway": "marks the middle of a hold",
    "time_left": "says how many whole minutes are left in a hold",
    "final_seconds": "starts the last seconds of a hold",
    "countdown": "speaks one number of the countdown at the end of a hold (if it is on)",
    "release": "comes after the end chime of each hold",
    "switch_sides": "announces the change to the next side",
    "outro": "closes the session",
    "programme_intro": "welcomes the listener at the start of a programme",
    "round_start": "announces a new round of a group of exercises, in a programme",
    "exercise_start": "announces each exercise of a programme",
    "rest": "starts the rest between two exercises of a programme",
    "next_up": "names the next exercise during a rest, in a programme",
    "programme_outro": "closes a programme",
}
SUFFIX = ".j2"
MAX_LINE_CHARS = 2000
MAX_TEMPLATE_BYTES = 64_000


def _builtin_folder() -> Path:
    return Path(str(resources.files("voiceguide.text.templates")))


class Wording:
    """Renders cue templates, with an optional folder of overrides."""

    def __init__(self, override_dir: Path | None = None, allow_markup: bool = False) -> None:
        loaders: list[jinja2.BaseLoader] = []
        if override_dir is not None:
            if not override_dir.is_dir():
                raise TemplateError(
                    f"template folder {override_dir} does not exist; "
                    "create it with: voiceguide templates export " + str(override_dir)
                )
            unknown = sorted(
                p.name for p in override_dir.glob(f"*{SUFFIX}") if p.stem not in TEMPLATES
            )
            if unknown:
                raise TemplateError(
                    f"{override_dir / unknown[0]} is not a voiceguide template; "
                    f"the templates are: {', '.join(n + SUFFIX for n in TEMPLATES)}"
                )
            for path in override_dir.glob(f"*{SUFFIX}"):
                if path.is_file() and path.stat().st_size > MAX_TEMPLATE_BYTES:
                    raise TemplateError(
                        f"{path} is {path.stat().st_size} bytes; a template may be at most "
                        f"{MAX_TEMPLATE_BYTES // 1000} kB"
                    )
            loaders.append(jinja2.FileSystemLoader(override_dir))
        loaders.append(jinja2.FileSystemLoader(_builtin_folder()))
        self.override_dir = override_dir
        self.allow_markup = allow_markup
        self.env = LimitedSandbox(
            loader=jinja2.ChoiceLoader(loaders),
            undefined=_Undefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["duration_words"] = _strict(duration_words)
        self.env.filters["number_words"] = _strict(number_words)
        self.env.limit_filters()
        self._compiled: dict[str, jinja2.Template] = {}

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        """Render the template ``name`` (without ``.j2``) to one spoken line."""
        template = self._compiled.get(name)
        if template is None:
            template = self._load(name)
            self._compiled[name] = template
        return self._render(template, context, _in_file(template.filename or name))

    def render_text(self, text: str, source: str | Place, context: Mapping[str, Any]) -> str:
        """Render text from a routine file; ``source`` (or its place) names it in errors."""
        if "{" not in text:
            return self._spoken(text)
        where = _in_file(source) if isinstance(source, str) else source.at
        name = where(None)
        try:
            code = self.env.compile(text, name=name, filename=name)
        except jinja2.TemplateSyntaxError as e:
            line, said = self._syntax(e)
            raise TemplateError(f"{where(line)}: {said}") from None
        except RecursionError:
            raise TemplateError(f"{name}: the template is nested too deeply") from None
        template = self.env.template_class.from_code(self.env, code, self.env.make_globals(None))
        return self._render(template, context, where)

    def _syntax(self, e: jinja2.TemplateSyntaxError) -> tuple[int | None, str]:
        """A syntax error in plain words, and its line: a misspelt filter or test gets a
        "did you mean"; a block never closed is named at the line that opens it (Jinja
        names the end of the template)."""
        unclosed = (
            _unclosed_block(self.env, e.source or "")
            if _AT_THE_END.search(e.message or "")
            else None
        )
        if unclosed is not None:
            name, line = unclosed
            return line, f"this {{% {name} %}} is never closed; end it with {{% end{name} %}}"
        return e.lineno, self._syntax_words(e)

    def _syntax_words(self, e: jinja2.TemplateSyntaxError) -> str:
        unknown = re.fullmatch(r"No (filter|test) named '(.+?)'\.?", e.message or "")
        if unknown:
            kind, given = unknown[1], unknown[2]
            names = sorted(self.env.filters if kind == "filter" else self.env.tests)
            close = difflib.get_close_matches(given, names, n=1)
            if close:
                return f"there is no {kind} {given!r}; did you mean {close[0]!r}?"
            return f"there is no {kind} {given!r}; the {kind}s are: {', '.join(names)}"
        return (
            f"template syntax error: {(e.message or '').rstrip('.')}; write a variable as "
            "{{ name }} "
            "and a command as {% ... %}"
        )

    def _load(self, name: str) -> jinja2.Template:
        filename = name + SUFFIX
        try:
            return self.env.get_template(filename)
        except jinja2.TemplateSyntaxError as e:
            where = _in_file(e.filename or str(self._path_of(filename)))
            line, said = self._syntax(e)
            raise TemplateError(f"{where(line)}: {said}") from None
        except jinja2.TemplateNotFound as e:
            raise TemplateError(f"template {e.name} not found") from None
        except RecursionError:
            raise TemplateError(
                f"{self._path_of(filename)}: the template is nested too deeply"
            ) from None

    def _render(self, template: jinja2.Template, context: Mapping[str, Any], where: Where) -> str:
        try:
            text = "".join(self.env.generate(template, context))
        except RenderLimitError as e:
            at = _raised_at(e, template, where)
            raise TemplateError(f"{at}: too much work for a template: {e}") from None
        except jinja2.UndefinedError as e:
            at = _raised_at(e, template, where)
            undefined = re.fullmatch(r"'(.+?)' is undefined", e.message or "")
            if undefined is None:  # a key a value does not have: _Undefined said which
                raise TemplateError(f"{at}: {e.message}") from None
            then = f"the variables here are: {', '.join(sorted(context))}"
            hint = _did_you_mean(undefined[1], sorted(context), then)
            raise TemplateError(f"{at}: {e.message}{hint}") from None
        except jinja2.exceptions.SecurityError as e:
            unsafe = re.search(r"access to attribute '(.+?)' of", str(e))
            said = (
                f"the attribute {unsafe[1]!r} is unsafe; use only the variables and filters"
                if unsafe
                else str(e)
            )
            raise TemplateError(f"{where(None)}: not allowed in a template: {said}") from None
        except jinja2.TemplateNotFound as e:  # from {% include %}; its message is only the name
            raise TemplateError(f"{where(None)}: template {e.name} not found") from None
        except jinja2.TemplateError as e:
            raise TemplateError(f"{_raised_at(e, template, where)}: {e.message}") from None
        except (TypeError, ValueError, ArithmeticError) as e:
            raise TemplateError(f"{_raised_at(e, template, where)}: {e}") from None
        except RecursionError:
            raise TemplateError(f"{where(None)}: the template calls itself without end") from None
        except MemoryError:
            raise TemplateError(f"{where(None)}: the template needs too much memory") from None
        spoken = self._spoken(text)
        if len(spoken) > MAX_LINE_CHARS:
            raise TemplateError(
                f"{where(None)}: renders {len(spoken)} characters; a spoken line may have at "
                f"most {MAX_LINE_CHARS}"
            )
        return spoken

    def _path_of(self, filename: str) -> Path:
        """Where the template ``filename`` is loaded from: the override folder, or built in."""
        if self.override_dir is not None and (self.override_dir / filename).is_file():
            return self.override_dir / filename
        return _builtin_folder() / filename

    def _spoken(self, text: str) -> str:
        """The text as one line, with any speech-engine markup made plain unless allowed."""
        return _one_line(text) if self.allow_markup else _one_line(neutralise_markup(text))


def _in_file(name: str) -> Where:
    """Where, in the template file or text ``name``: ``intro.j2, line 2``."""
    return lambda line: f"{name}, line {line}" if line else name


#: Jinja's words for a block still open when the template ends (not for an end tag
#: that cuts across another block: Jinja's own words name that one).
_AT_THE_END = re.compile(r"^Unexpected end of template\b.*innermost block", re.DOTALL)


def _unclosed_block(env: jinja2.Environment, source: str) -> tuple[str, int] | None:
    """The innermost block tag of ``source`` that no end tag closes, and its line: such as
    ``("if", 2)``. (``{% set x = ... %}`` opens no block; ``{% set x %}`` does.)"""
    opened: list[tuple[str, int]] = []
    try:
        tokens = [t for t in env.lex(source) if t[1] != "whitespace"]
    except jinja2.TemplateSyntaxError:
        return None
    for at, (_, kind, value) in enumerate(tokens):
        if kind != "name" or at == 0 or tokens[at - 1][1] != "block_begin":
            continue
        if value.startswith("end") and opened and opened[-1][0] == value[3:]:
            opened.pop()
        elif value in _BLOCKS or (value == "set" and not _assigns(tokens[at + 1 :])):
            opened.append((value, tokens[at - 1][0]))  # the line of its "{%"
    return opened[-1] if opened else None


_BLOCKS = {"if", "for", "macro", "call", "filter", "with", "block", "autoescape", "trans"}


def _assigns(tokens: list[tuple[int, str, str]]) -> bool:
    """Whether a ``set`` tag, from the tokens after its name, assigns in place."""
    for _, kind, value in tokens:
        if kind == "block_end":
            return False
        if kind == "operator" and value == "=":
            return True
    return False


def _did_you_mean(given: str, names: Sequence[str], then: str) -> str:
    """``; did you mean 'side'? The ...`` (``then`` follows, capitalised), or ``; the ...``."""
    close = difflib.get_close_matches(given, names, n=1)
    return f"; did you mean {close[0]!r}? {then[:1].upper()}{then[1:]}" if close else f"; {then}"


class _Undefined(jinja2.StrictUndefined):
    """Strict, and says what a value that has no such key does have, in plain words
    (Jinja's own message names a Python type: "'dict object' has no attribute")."""

    @property
    def _undefined_message(self) -> str:
        obj, name = self._undefined_obj, self._undefined_name
        if self._undefined_hint or obj is jinja2.utils.missing or not isinstance(obj, Mapping):
            return str(super()._undefined_message)
        keys = sorted(str(k) for k in obj)
        then = f"it has: {', '.join(keys)}"
        return f"there is no {name!r} in it{_did_you_mean(str(name), keys, then)}"


def _strict(func: Callable[[Any], str]) -> Callable[[Any], str]:
    """A filter that reports an undefined input as undefined, not as a TypeError."""

    def apply(value: Any) -> str:
        if isinstance(value, jinja2.Undefined):
            value._fail_with_undefined_error()
        return func(value)

    return apply


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _raised_at(error: BaseException, template: jinja2.Template, where: Where) -> str:
    """Where ``error`` was raised, found in its traceback: a line of ``template``, or of a
    template it includes (named by its own file)."""
    own = (template.filename, template.name)
    found = None
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename in own or frame.filename.endswith(SUFFIX):
            found = frame
    if found is None:
        return where(None)
    if found.filename in own:
        return where(found.lineno)
    return _in_file(found.filename)(found.lineno)


def export_templates(folder: Path, overwrite: bool = False) -> list[Path]:
    """Copy the built-in templates into ``folder``, ready to edit."""
    if folder.exists() and not folder.is_dir():
        raise TemplateError(f"{folder} exists and is not a folder")
    targets = [folder / (name + SUFFIX) for name in TEMPLATES]
    existing = [p for p in targets if p.exists()]
    if existing and not overwrite:
        raise TemplateError(
            f"{existing[0]} already exists; use --force to overwrite the templates in {folder}"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for target in targets:
            source = _builtin_folder() / target.name
            atomic_write_bytes(target, source.read_bytes())
    except OSError as e:
        raise TemplateError(f"cannot write templates to {folder}: {e.strerror}") from None
    return targets
