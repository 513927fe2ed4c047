"""Unit tests for voiceguide.text.wording: cue templates, overrides and the sandbox."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from voiceguide.errors import TemplateError, VoiceguideError
from voiceguide.text.wording import (
    MAX_LINE_CHARS,
    SUFFIX,
    TEMPLATES,
    Wording,
    _builtin_folder,
    export_templates,
)

ROUTINE = {"name": "test", "title": "Strapped Hamstring Stretch", "why": "It helps your back."}


def context(**overrides: Any) -> dict[str, Any]:
    """Every variable any built-in template may use, as compose() provides them."""
    ctx: dict[str, Any] = {
        "routine": ROUTINE,
        "hold": 300.0,
        "minimum_hold": 60.0,
        "sides": ["left", "right"],
        "sides_total": 2,
        "steps_total": 8,
        "side": "left",
        "side_number": 1,
        "other_side": "right",
        "next_side": "right",
        "elapsed": 150.0,
        "time_left": 150.0,
        "minutes_left": 2,
        "step": {"text": "Lie on your back.", "number": 1},
        "reminder": {"text": "Breathe deeply.", "number": 1},
        "release": "Lower your leg.",
        "outro": "Well done.",
        "start_chime": "default",
        "end_chime": "default",
        "countdown_from": 3,
        "number": 3,
        # A programme's variables (see voiceguide/text/programme_cues.py).
        "programme": {"title": "My back series", "intro": "Go gently.", "outro": "Rest now."},
        "exercises_total": 5,
        "exercise": {"title": "Knee to chest", "number": 2, "hold": 60.0,
                     "sides": ["left", "right"], "sides_total": 2, "round": 0, "rounds": 0},
        "next": {"title": "Pelvic tilt", "number": 3, "hold": 90.0, "sides": [],
                 "sides_total": 0, "round": 0, "rounds": 0},
        "rest": 20.0,
        "round": 2,
        "rounds": 3,
        "is_last": False,
    }  # fmt: skip
    ctx.update(overrides)
    return ctx


@pytest.fixture(scope="module")
def wording() -> Wording:
    return Wording()


def line_of(message: str) -> int:
    found = re.search(r", line (\d+):", message)
    assert found, f"no line number in {message!r}"
    return int(found.group(1))


# --- built-in templates ------------------------------------------------------------------


def test_every_template_file_is_listed() -> None:
    files = {p.stem for p in _builtin_folder().glob(f"*{SUFFIX}")}
    assert files == set(TEMPLATES)


EXPECTED = {
    "intro": (
        "Welcome. This is the strapped hamstring stretch. It helps your back. "
        "We'll hold each side for five minutes. Listen for the chime: one chime starts "
        "each hold, and a double chime ends it."
    ),
    "side_start": "Let's begin with your left side.",
    "step": "Lie on your back.",
    "hold_start": "Hold your left side for five minutes, starting at the chime.",
    "reminder": "Breathe deeply.",
    "halfway": "Halfway. Two minutes and thirty seconds to go.",
    "time_left": "Two minutes and thirty seconds left.",
    "final_seconds": "Last two minutes and thirty seconds. Stay with it.",
    "countdown": "Three.",
    "release": "Well done. Lower your leg.",
    "switch_sides": "Switch sides.",
    "outro": "Well done.",
    "programme_intro": (
        "Welcome. This is My back series: five exercises. Go gently. Listen for the chime: "
        "one chime starts each hold, and a double chime ends it."
    ),
    "round_start": "Round two of three.",
    "exercise_start": "Exercise two of five: knee to chest.",
    "rest": "Rest for twenty seconds.",
    "next_up": "Next up, exercise three of five: pelvic tilt, one minute and thirty seconds.",
    "programme_outro": "That is the end of the programme. Rest now.",
}


def test_one_side_and_no_sides_are_said_as_such(wording: Wording) -> None:
    one = context(sides=["left"], sides_total=1)
    assert "We'll hold your left side for five minutes." in wording.render("intro", one)
    assert wording.render("side_start", one) == "This one is for your left side only."
    none = context(side="", sides=[], sides_total=0)
    assert "We'll hold it for five minutes." in wording.render("intro", none)
    assert wording.render("side_start", none) == "Let's begin."
    assert wording.render("hold_start", none) == "Hold it for five minutes, starting at the chime."


def test_the_last_exercise_and_one_sided_next_exercise(wording: Wording) -> None:
    last = context(is_last=True, exercise={"title": "Child's pose", "number": 5})
    assert wording.render("exercise_start", last) == "Last exercise: child's pose."
    one = context(next={"title": "Hip flexor", "number": 4, "hold": 60.0, "sides": ["left"],
                        "sides_total": 1})  # fmt: skip
    assert wording.render("next_up", one) == (
        "Next up, exercise four of five: hip flexor, one minute on your left side."
    )


def test_expected_covers_every_template() -> None:
    assert set(EXPECTED) == set(TEMPLATES)


@pytest.mark.parametrize("name", TEMPLATES)
def test_builtin_template_renders(wording: Wording, name: str) -> None:
    spoken = wording.render(name, context())
    assert spoken == EXPECTED[name]
    assert "\n" not in spoken
    assert "{" not in spoken, "tags never reach speech"
    assert "#" not in spoken, "comments never reach speech"


def test_side_start_differs_for_later_sides(wording: Wording) -> None:
    spoken = wording.render("side_start", context(side="right", side_number=2))
    assert spoken == "Now set up your right side."


def test_final_seconds_and_time_left_use_duration_words(wording: Wording) -> None:
    assert wording.render("final_seconds", context(time_left=10.0)) == (
        "Last ten seconds. Stay with it."
    )
    assert wording.render("time_left", context(time_left=60.0)) == "One minute left."
    assert wording.render("hold_start", context(hold=90.0)) == (
        "Hold your left side for one minute and thirty seconds, starting at the chime."
    )


def test_render_is_repeatable(wording: Wording) -> None:
    first = wording.render("hold_start", context(side="left"))
    second = wording.render("hold_start", context(side="right"))
    assert first != second
    assert "right side" in second


def test_unknown_template_name(wording: Wording) -> None:
    with pytest.raises(TemplateError, match=r"template nope\.j2 not found"):
        wording.render("nope", context())


# --- filters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("{{ 300 | duration_words }}", "five minutes"),
        ("{{ 90 | duration_words }}", "one minute and thirty seconds"),
        ("{{ hold | duration_words }}", "five minutes"),
        ("{{ 42 | number_words }}", "forty-two"),
        ("{{ side_number | number_words }}", "one"),
        ("{{ hold | duration_words | capitalize }}", "Five minutes"),
    ],
)
def test_filters(wording: Wording, text: str, spoken: str) -> None:
    assert wording.render_text(text, "src", context()) == spoken


def test_filter_with_wrong_type_is_a_template_error(wording: Wording) -> None:
    with pytest.raises(TemplateError) as info:
        wording.render_text("x\n{{ side | duration_words }}", "src", context())
    message = str(info.value)
    assert message.startswith("src, line 2: ")


@pytest.mark.parametrize("filter_name", ["duration_words", "number_words"])
def test_filter_of_undefined_variable_names_the_variable(tmp_path: Path, filter_name: str) -> None:
    # A typo like {{ hodl | duration_words }} must say 'hodl' is undefined, not
    # complain about a missing __round__ method.
    (tmp_path / "hold_start.j2").write_text(f"{{# note #}}\nHold {{{{ hodl | {filter_name} }}}}.\n")
    with pytest.raises(TemplateError) as info:
        Wording(tmp_path).render("hold_start", context())
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'hold_start.j2'}, line 2: ")
    assert "'hodl' is undefined" in message


# --- render_text -------------------------------------------------------------------------


def test_render_text_substitutes_side(wording: Wording) -> None:
    text = "Put a yoga strap across the ball of your {{ side }} foot."
    assert wording.render_text(text, "steps[1]", context(side="right")) == (
        "Put a yoga strap across the ball of your right foot."
    )


def test_render_text_without_braces_is_only_tidied(wording: Wording) -> None:
    assert wording.render_text("  Lie   on\nyour back.  ", "src", {}) == "Lie on your back."


def test_render_text_plain_text_is_not_a_template(wording: Wording) -> None:
    # No "{" means no template: % and # signs are spoken as written.
    assert wording.render_text("100% relaxed # really", "src", {}) == "100% relaxed # really"


def test_render_text_joins_lines(wording: Wording) -> None:
    assert wording.render_text("Your {{ side }}\n  leg.\n", "src", context()) == "Your left leg."


def test_render_text_undefined_names_source_line_and_variables(wording: Wording) -> None:
    with pytest.raises(TemplateError) as info:
        wording.render_text("Lift\nyour {{ sied }} leg.", "hamstring: steps[2]", {"side": "left"})
    message = str(info.value)
    assert message == (
        "hamstring: steps[2], line 2: 'sied' is undefined; did you mean 'side'? "
        "The variables here are: side"
    )


def test_render_text_undefined_attribute(wording: Wording) -> None:
    match = r"^src, line 1: there is no 'titel' in it; did you mean 'title'\? It has: name,"
    with pytest.raises(TemplateError, match=match):
        wording.render_text("{{ routine.titel }}", "src", context())


def test_render_text_syntax_error_names_source(wording: Wording) -> None:
    with pytest.raises(TemplateError) as info:
        wording.render_text("your {{ side foot", "hamstring: steps[1]", context())
    assert str(info.value).startswith("hamstring: steps[1], line 1: template syntax error: ")
    assert str(info.value).endswith("; write a variable as {{ name }} and a command as {% ... %}")


def test_render_text_runtime_error_is_a_template_error(wording: Wording) -> None:
    with pytest.raises(TemplateError, match=r"^src, line 1: division by zero"):
        wording.render_text("{{ 1 / 0 }}", "src", {})


# --- undefined variables and syntax errors in template files -----------------------------


def test_undefined_variable_in_builtin_names_file_and_line(wording: Wording) -> None:
    with pytest.raises(TemplateError) as info:
        wording.render("release", {"side": "left"})
    message = str(info.value)
    path = _builtin_folder() / "release.j2"
    assert message.startswith(f"{path}, line 3: ")
    assert "'release' is undefined" in message
    assert message.endswith("the variables here are: side")


def test_undefined_variable_in_override_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "intro.j2").write_text(
        "{# A comment\n   over two lines. #}\nHello.\n{{ tittle }}\n"
    )
    with pytest.raises(TemplateError) as info:
        Wording(tmp_path).render("intro", context())
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'intro.j2'}, line 4: ")
    assert "'tittle' is undefined" in message
    assert "routine" in message.split("the variables here are: ")[1]


def test_syntax_error_in_override_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "outro.j2").write_text("Bye.\n\n{% if %}\nx\n{% endif %}\n")
    wording = Wording(tmp_path)
    with pytest.raises(TemplateError) as info:
        wording.render("outro", context())
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'outro.j2'}, line 3: template syntax error: ")


def test_unclosed_block_in_override_is_a_template_error(tmp_path: Path) -> None:
    (tmp_path / "outro.j2").write_text("{% if outro %}\n{{ outro }}\n")
    with pytest.raises(TemplateError) as info:
        Wording(tmp_path).render("outro", context())
    assert str(info.value) == (
        f"{tmp_path / 'outro.j2'}, line 1: this {{% if %}} is never closed; "
        "end it with {% endif %}"
    )


# --- the --templates override folder -----------------------------------------------------


def test_override_replaces_only_its_templates(tmp_path: Path) -> None:
    (tmp_path / "hold_start.j2").write_text("Custom hold on your {{ side }} side.\n")
    (tmp_path / "outro.j2").write_text("Goodbye!\n")
    wording = Wording(tmp_path)
    assert wording.override_dir == tmp_path
    assert wording.render("hold_start", context()) == "Custom hold on your left side."
    assert wording.render("outro", context()) == "Goodbye!"
    # Templates not overridden come from the built-ins.
    assert wording.render("halfway", context()) == EXPECTED["halfway"]
    assert wording.render("intro", context()) == EXPECTED["intro"]


def test_empty_override_folder_changes_nothing(tmp_path: Path, wording: Wording) -> None:
    override = Wording(tmp_path)
    for name in TEMPLATES:
        assert override.render(name, context()) == wording.render(name, context())


def test_override_folder_may_hold_other_files(tmp_path: Path) -> None:
    (tmp_path / "README.txt").write_text("notes")
    (tmp_path / "step.j2").write_text("Step {{ step.number }}: {{ step.text }}\n")
    assert Wording(tmp_path).render("step", context()) == "Step 1: Lie on your back."


def test_unknown_template_in_override_folder(tmp_path: Path) -> None:
    (tmp_path / "intro.j2").write_text("Hi.\n")
    (tmp_path / "intrO.j2").write_text("Typo.\n")
    (tmp_path / "welcome.j2").write_text("Typo.\n")
    with pytest.raises(TemplateError) as info:
        Wording(tmp_path)
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'intrO.j2'} is not a voiceguide template; ")
    assert "the templates are: " + ", ".join(n + SUFFIX for n in TEMPLATES) in message


def test_missing_override_folder(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(TemplateError) as info:
        Wording(missing)
    message = str(info.value)
    assert message == (
        f"template folder {missing} does not exist; "
        f"create it with: voiceguide templates export {missing}"
    )


def test_override_folder_that_is_a_file(tmp_path: Path) -> None:
    file = tmp_path / "templates"
    file.write_text("not a folder")
    with pytest.raises(TemplateError, match="does not exist"):
        Wording(file)


# --- the sandbox -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ joiner.__init__.__globals__ }}",
        "{{ lipsum.__globals__ }}",
        "{{ side.__class__ }}",
        "{{ routine.__class__.__base__.__subclasses__() }}",
        "{{ sides.append('x') }}",
        "{{ routine.update({'title': 'x'}) }}",
    ],
)
def test_sandbox_refuses_unsafe_access(wording: Wording, payload: str) -> None:
    ctx = context(routine=dict(ROUTINE), sides=["left", "right"])
    with pytest.raises(TemplateError) as info:
        wording.render_text(payload, "evil", ctx)
    assert str(info.value).startswith("evil: not allowed in a template: ")
    assert "unsafe" in str(info.value)
    # Nothing was changed by the attempt.
    assert ctx["sides"] == ["left", "right"]
    assert ctx["routine"] == ROUTINE


def test_sandbox_refuses_unsafe_access_in_override(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    (tmp_path / "intro.j2").write_text(
        "{{ cycler.__init__.__globals__.os.system('touch " + str(marker) + "') }}\n"
    )
    with pytest.raises(TemplateError) as info:
        Wording(tmp_path).render("intro", context())
    assert str(info.value).startswith(f"{tmp_path / 'intro.j2'}: not allowed in a template: ")
    assert not marker.exists()


def test_sandbox_refuses_huge_ranges(wording: Wording) -> None:
    with pytest.raises(TemplateError, match="the number 1000000000 is too large"):
        wording.render_text("{% for i in range(10**9) %}x{% endfor %}", "src", {})


def test_include_cannot_escape_the_template_folders(tmp_path: Path) -> None:
    (tmp_path / "outro.j2").write_text("{% include '../../../../../../etc/passwd' %}\n")
    with pytest.raises(TemplateError) as info:
        Wording(tmp_path).render("outro", context())
    assert str(info.value) == (
        f"{tmp_path / 'outro.j2'}: template ../../../../../../etc/passwd not found"
    )


def test_include_of_another_template_works(tmp_path: Path) -> None:
    (tmp_path / "outro.j2").write_text("{% include 'release.j2' %} Bye.\n")
    assert Wording(tmp_path).render("outro", context()) == "Well done. Lower your leg. Bye."


def test_include_of_a_missing_template_names_it(tmp_path: Path) -> None:
    (tmp_path / "outro.j2").write_text("{% include 'missing.j2' %}\n")
    with pytest.raises(TemplateError) as info:
        Wording(tmp_path).render("outro", context())
    assert str(info.value) == f"{tmp_path / 'outro.j2'}: template missing.j2 not found"


# --- line length -------------------------------------------------------------------------


def test_over_long_line_is_refused(wording: Wording) -> None:
    with pytest.raises(TemplateError) as info:
        wording.render_text("{{ 'word ' * 1000 }}", "src", {})
    assert str(info.value) == (
        f"src: renders 4999 characters; a spoken line may have at most {MAX_LINE_CHARS}"
    )


def test_line_at_the_limit_is_allowed(wording: Wording) -> None:
    spoken = wording.render_text("{{ 'x' * n }}", "src", {"n": MAX_LINE_CHARS})
    assert len(spoken) == MAX_LINE_CHARS
    with pytest.raises(TemplateError, match="renders 2001 characters"):
        wording.render_text("{{ 'x' * n }}", "src", {"n": MAX_LINE_CHARS + 1})


def test_over_long_override_template_is_refused(tmp_path: Path) -> None:
    (tmp_path / "reminder.j2").write_text(
        "{% for i in range(500) %}{{ reminder.text }} {% endfor %}"
    )
    with pytest.raises(TemplateError) as info:
        Wording(tmp_path).render("reminder", context())
    assert str(info.value).startswith(f"{tmp_path / 'reminder.j2'}: renders ")


def test_template_error_is_a_voiceguide_error(wording: Wording) -> None:
    with pytest.raises(VoiceguideError):
        wording.render("nope", {})


# --- export_templates --------------------------------------------------------------------


def test_export_writes_every_template(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "templates"
    written = export_templates(folder)
    assert written == [folder / (name + SUFFIX) for name in TEMPLATES]
    assert sorted(p.name for p in folder.iterdir()) == sorted(n + SUFFIX for n in TEMPLATES)
    for path in written:
        assert path.read_bytes() == (_builtin_folder() / path.name).read_bytes()


def test_exported_templates_work_as_overrides(tmp_path: Path, wording: Wording) -> None:
    export_templates(tmp_path)
    override = Wording(tmp_path)
    for name in TEMPLATES:
        assert override.render(name, context()) == wording.render(name, context())


def test_export_refuses_to_overwrite(tmp_path: Path) -> None:
    export_templates(tmp_path)
    edited = tmp_path / "intro.j2"
    edited.write_text("My own intro.\n")
    with pytest.raises(TemplateError) as info:
        export_templates(tmp_path)
    message = str(info.value)
    assert message.startswith(f"{edited} already exists; use --force")
    assert edited.read_text() == "My own intro.\n", "nothing was overwritten"


def test_export_refuses_if_any_one_template_exists(tmp_path: Path) -> None:
    (tmp_path / "outro.j2").write_text("Mine.\n")
    with pytest.raises(TemplateError, match=r"outro\.j2 already exists"):
        export_templates(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["outro.j2"], "nothing else was written"


def test_export_overwrites_when_asked(tmp_path: Path) -> None:
    export_templates(tmp_path)
    edited = tmp_path / "intro.j2"
    edited.write_text("My own intro.\n")
    export_templates(tmp_path, overwrite=True)
    assert edited.read_bytes() == (_builtin_folder() / "intro.j2").read_bytes()


def test_export_keeps_other_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    export_templates(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_export_into_a_file_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(TemplateError) as info:
        export_templates(file)
    assert str(info.value) == f"{file} exists and is not a folder"


def test_every_template_is_checked_with_the_values_a_session_gives_it(tmp_path: Path) -> None:
    from voiceguide.text.wording_check import check_templates, probe_contexts

    assert sorted(probe_contexts()) == sorted(TEMPLATES)  # the probe speaks every cue
    check_templates(Wording(), TEMPLATES)  # the built-in wording passes
    (tmp_path / "halfway.j2").write_text("Halfway. {{ time_lef }} to go.\n")
    (tmp_path / "round_start.j2").write_text("Round {{ round }} of {{ rounds }}.\n")
    wording = Wording(tmp_path)
    check_templates(wording, ["round_start"])
    with pytest.raises(TemplateError, match=r"halfway\.j2, line 1: 'time_lef' is undefined"):
        check_templates(wording, ["round_start", "halfway"])


def test_an_end_tag_across_another_block_keeps_jinjas_words_and_line() -> None:
    # The for is closed; the if inside it is what the {% endfor %} cuts across.
    text = "a\n{% for s in sides %}\n{% if s %}\n{% endfor %}\n{% endif %}"
    with pytest.raises(TemplateError) as info:
        Wording().render_text(text, "steps 1", {"sides": ["left"]})
    assert str(info.value).startswith("steps 1, line 4: template syntax error: ")
    assert "The innermost block that needs to be closed is 'if'" in str(info.value)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "Welcome.\n{% if hold > 60 %}\nA long one.\n{% for s in sides %}{{ s }}{% endfor %}\n"
            "\nEnd.\n",
            "intro.j2, line 2: this {% if %} is never closed; end it with {% endif %}",
        ),
        (
            "{% set x %}a{% endset %}{% set y = 2 %}\n"
            "{% for s in sides %}\n{% if s %}{% endif %}\n",
            "intro.j2, line 2: this {% for %} is never closed; end it with {% endfor %}",
        ),
    ],
)
def test_a_block_never_closed_is_named_where_it_opens(tmp_path: Path, text: str, said: str) -> None:
    # Jinja names the template's end; the person needs the line they left open.
    (tmp_path / "intro.j2").write_text(text)
    with pytest.raises(TemplateError) as info:
        Wording(tmp_path).render("intro", {"hold": 90, "sides": ["left"]})
    assert str(info.value) == f"{tmp_path}/{said}"
    # The same in a routine's own text.
    with pytest.raises(TemplateError, match=re.escape(said.replace("intro.j2", "steps 1"))):
        Wording().render_text(text, "steps 1", {"hold": 90, "sides": ["left"]})


def test_a_mistake_in_an_included_template_is_named_in_that_template(tmp_path: Path) -> None:
    (tmp_path / "intro.j2").write_text("Hello.\n{% include 'outro.j2' %}\n")
    (tmp_path / "outro.j2").write_text("Bye.\n{{ 1 / 0 }}\n")
    with pytest.raises(TemplateError) as info:
        Wording(tmp_path).render("intro", {})
    assert str(info.value) == f"{tmp_path / 'outro.j2'}, line 2: division by zero"
