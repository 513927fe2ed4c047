"""Untrusted templates and routine text: injection payloads, time and size limits, markup."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.fakes import FakeEngine
from voiceguide.build.session import SessionOptions, prepare
from voiceguide.errors import TemplateError
from voiceguide.text import sandbox
from voiceguide.text.markup import neutralise_markup
from voiceguide.text.wording import Wording

CONTEXT = {"side": "left", "other_side": "right", "routine": {"name": "x", "title": "X"}}


@pytest.fixture(autouse=True)
def _short_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Endless templates are stopped after a fifth of a second here, to keep tests fast."""
    monkeypatch.setattr(sandbox, "MAX_RENDER_SECONDS", 0.2)


# --- injection payloads --------------------------------------------------------------------

#: Known server-side template injection payloads; each must end in a clean TemplateError.
PAYLOADS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''.__class__.__base__.__subclasses__()[0].__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('touch MARKER').read() }}",
    "{{ joiner.__init__.__globals__.os.system('touch MARKER') }}",
    "{{ namespace.__init__.__globals__.os.popen('touch MARKER').read() }}",
    "{{ lipsum.__globals__['os'].popen('touch MARKER').read() }}",
    "{{ lipsum.__globals__.__builtins__.open('/etc/passwd').read() }}",
    "{{ self._TemplateReference__context }}",
    "{{ self.__init__.__globals__.__builtins__ }}",
    "{{ config }}",
    "{{ config.__class__.__init__.__globals__['os'].popen('touch MARKER') }}",
    "{{ request.application.__globals__.__builtins__.__import__('os') }}",
    "{{ range.__self__ }}",
    "{{ side.__class__.__mro__ }}",
    "{{ side|attr('__class__') }}",
    "{{ (side|attr('\\x5f\\x5fclass\\x5f\\x5f')) }}",
    "{{ side['__class__'] }}",
    "{{ routine.__class__.__base__.__subclasses__() }}",
    "{{ dict.__base__.__subclasses__() }}",
    "{{ 'a'.format.__globals__ }}",
    "{{ '{0.__class__}'.format(side) }}",
    "{{ '{0.__init__.__globals__}'.format(cycler) }}",
    "{% include '/etc/passwd' %}",
    "{% include '../../../../../../etc/passwd' %}",
    "{% import '/etc/passwd' as p %}",
    "{% extends '/etc/passwd' %}",
    "{% from '/etc/hostname' import x %}{{ x }}",
]


def _check_blocked(error: TemplateError, where: str, tmp_path: Path) -> None:
    message = str(error)
    assert message.startswith(where)
    assert "\n" not in message
    assert not (tmp_path / "MARKER").exists(), "the payload ran a command"
    assert "root:" not in message, "the payload read /etc/passwd"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_in_routine_text_is_blocked(
    payload: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TemplateError) as info:
        Wording().render_text(payload, "evil.yaml: steps[0]", CONTEXT)
    _check_blocked(info.value, "evil.yaml: steps[0]", tmp_path)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_in_a_template_file_is_blocked(
    payload: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "wording"
    folder.mkdir()
    (folder / "intro.j2").write_text(payload + "\n")
    with pytest.raises(TemplateError) as info:
        Wording(folder).render("intro", CONTEXT)
    _check_blocked(info.value, str(folder / "intro.j2"), tmp_path)


def test_unsafe_attribute_access_is_named_as_not_allowed() -> None:
    with pytest.raises(TemplateError, match=r"not allowed in a template: .*unsafe"):
        Wording().render_text(PAYLOADS[0], "src", CONTEXT)


# --- limits on time and size ---------------------------------------------------------------

ENDLESS = [
    "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
    "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
    "{% set r = range(10000) %}{% for i in r %}{% for j in r %}{% endfor %}{% endfor %}",
    "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "{% for x in ('x' * 90000)|list %}{% for y in ('x' * 90000)|list %}{% endfor %}{% endfor %}",
]

ENORMOUS = [
    "{{ 'x' * 10**12 }}",
    "{{ 'x' * 99999 * 99999 }}",
    "{{ [1] * 10**10 }}",
    "{{ 2 ** 100000 }}",
    "{{ 10 ** 1000 * 10 ** 1000 }}",
    "{{ 2.0 ** 100000 }}",
    "{% set ns = namespace(s='ab') %}{% for i in range(60) %}{% set ns.s = ns.s + ns.s %}"
    "{% endfor %}{{ ns.s }}",
    "{% set ns = namespace(n=3) %}{% for i in range(60) %}{% set ns.n = ns.n * ns.n %}"
    "{% endfor %}{{ ns.n }}",
    "{{ 'x'|center(10**9) }}",
    "{{ 'x'.ljust(999999999) }}",
    "{{ 'x'|indent(10**9) }}",
    "{{ '{:>999999999}'.format(1) }}",
    "{{ '%0999999999d' % 1 }}",
    "{{ '%0999999999d'|format(1) }}",
    "{{ ('x' * 50000).replace('', 'y' * 50000) }}",
    "{{ ('x' * 50000)|replace('x', 'yyyyyyy') }}",
    "{{ ('x' * 50000).join(range(10000)|map('string')) }}",
    "{{ range(10000)|join('x' * 50000) }}",
    "{{ lipsum(100000) }}",
    "{{ range(10**9)|list }}",
    "{% for i in range(10000) %}{{ 'word ' * 20 }}{% endfor %}",
    "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}",
]


@pytest.mark.parametrize("payload", ENDLESS + ENORMOUS)
def test_runaway_routine_text_ends_quickly_with_a_template_error(payload: str) -> None:
    began = time.monotonic()
    with pytest.raises(TemplateError) as info:
        Wording().render_text(payload, "big.yaml: why", CONTEXT)
    assert str(info.value).startswith("big.yaml: why")
    # Generous: the point is that it ends, not how fast (the machine is shared).
    assert time.monotonic() - began < 10


@pytest.mark.parametrize("payload", ENDLESS + ENORMOUS)
def test_runaway_template_file_names_the_template(payload: str, tmp_path: Path) -> None:
    (tmp_path / "halfway.j2").write_text("Halfway.\n" + payload + "\n")
    with pytest.raises(TemplateError) as info:
        Wording(tmp_path).render("halfway", CONTEXT)
    assert str(info.value).startswith(str(tmp_path / "halfway.j2"))


def test_an_endless_loop_is_reported_as_such(tmp_path: Path) -> None:
    (tmp_path / "outro.j2").write_text("Bye.\n" + ENDLESS[1] + "\n")
    with pytest.raises(TemplateError) as info:
        Wording(tmp_path).render("outro", CONTEXT)
    assert str(info.value) == (
        f"{tmp_path / 'outro.j2'}, line 2: too much work for a template: the template took "
        "more than 0.2 seconds to render; it may loop without end"
    )


def test_a_huge_string_is_refused_before_it_is_built() -> None:
    with pytest.raises(TemplateError) as info:
        Wording().render_text("{{ 'x' * 10**12 }}", "src", {})
    assert str(info.value) == (
        "src, line 1: too much work for a template: repeating 1 items 1000000000000 times; "
        "a template may build at most 100000 characters"
    )


def test_a_template_file_over_64_kb_is_refused(tmp_path: Path) -> None:
    (tmp_path / "intro.j2").write_text("Hello. " * 10_000)
    with pytest.raises(TemplateError, match=r"intro.j2 is 70000 bytes; a template may be at most"):
        Wording(tmp_path)


def test_ordinary_loops_and_arithmetic_still_work() -> None:
    text = (
        "{% for s in sides %}{{ s }}{{ ', ' if not loop.last }}{% endfor %}: "
        "{{ (hold / 60)|int }} minutes, {{ '%d'|format(2 ** 10) }}, {{ 'ab' * 3 }}, "
        "{{ ['a', 'b']|join('-') }}, {{ 'x y'.replace(' ', '_') }}"
    )
    spoken = Wording().render_text(text, "src", {"sides": ["left", "right"], "hold": 300})
    assert spoken == "left, right: 5 minutes, 1024, ababab, a-b, x_y"


def test_the_trace_is_restored_after_rendering() -> None:
    import sys

    before = sys.gettrace()
    Wording().render_text("{{ side }}", "src", CONTEXT)
    with pytest.raises(TemplateError):
        Wording().render_text(ENDLESS[1], "src", CONTEXT)
    assert sys.gettrace() is before


# --- speech-engine markup ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("<speak>Breathe in.</speak>", "Breathe in."),
        ('<prosody rate="x-fast" pitch="+90%">Relax</prosody> now.', "Relax now."),
        ('Lie down.<break time="60s"/> Good.', "Lie down. Good."),
        ("<audio src='http://example.com/x.mp3'/>Hello", "Hello"),
        ("Say [[h@l'oU]] hello.", "Say hello."),
        ("[[rate 400]]Quickly now.", "Quickly now."),
        ("Bend\x01 12S your knee\x07.", "Bend 12S your knee ."),
        ("Keep < 5 cm > apart.", "Keep 5 cm apart."),
        (
            "Plain text, with (brackets) and [one] & more.",
            "Plain text, with (brackets) and [one] & more.",
        ),
    ],
)
def test_markup_is_neutralised(text: str, plain: str) -> None:
    assert " ".join(neutralise_markup(text).split()) == plain
    assert Wording().render_text(text, "src", {}) == plain


def test_markup_passes_through_when_allowed() -> None:
    text = '<prosody rate="slow">Relax</prosody> [[h@l\'oU]]'
    assert Wording(allow_markup=True).render_text(text, "src", {}) == text


def test_markup_in_a_template_or_variable_is_neutralised(tmp_path: Path) -> None:
    (tmp_path / "intro.j2").write_text("<speak>{{ routine.title }}</speak>\n")
    ctx = {"routine": {"title": "Stretch [[rate 500]] <emphasis>now</emphasis>"}}
    assert Wording(tmp_path).render("intro", ctx) == "Stretch now"


MARKUP_ROUTINE = """\
name: markup
title: <speak>Markup</speak> test
why: '[[rate 500]] Fast.'
sides: [left]
steps:
  - <prosody rate="x-fast">Lie</prosody> down on your {{ side }} side.
reminders:
  - Say [[h@l'oU]] now.
"""


@pytest.mark.parametrize("allow", [False, True])
def test_the_engine_is_only_sent_markup_when_the_routine_allows_it(
    tmp_path: Path, fake_engine: FakeEngine, allow: bool
) -> None:
    path = tmp_path / "markup.yaml"
    path.write_text(MARKUP_ROUTINE + f"allow_markup: {str(allow).lower()}\n")
    prepare(SessionOptions(routine=path, hold=60.0, use_cache=False), fake_engine)
    said = " | ".join(fake_engine.spoken)
    if allow:
        assert '<prosody rate="x-fast">Lie</prosody> down on your left side.' in said
        assert "[[h@l'oU]]" in said
    else:
        assert "Lie down on your left side." in said
        for mark in ("<", ">", "[[", "]]", "prosody", "rate 500", "h@l"):
            assert mark not in said, f"{mark!r} reached the speech engine"
