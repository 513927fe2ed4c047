"""What the studio asks of the library: a draft from the page, planned or built.

A draft is everything the page holds: the routine or programme as a mapping (as
its YAML file would have it), the hold, the edited wording and the voice. It is
checked as the command line checks a routine or programme file and a template
folder, in the same Jinja sandbox; a routine from the page may not name sound
files, and a programme's own routine files come from the page too (never from
disk), so no path the page sends ever reaches the file system.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
import zipfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from voiceguide.build.session import (
    BuildResult,
    SessionOptions,
    build_session,
    cue_sheet,
    load_chimes,
    session_extras,
)
from voiceguide.encode.export import choose_format
from voiceguide.errors import RoutineError, TemplateError, VoiceguideError
from voiceguide.files import atomic_write_bytes
from voiceguide.plan.planner import plan
from voiceguide.plan.timeline import Timeline
from voiceguide.sound.audio import samples
from voiceguide.speech import DEFAULT_RATE, ENGINES, SpeechEngine, get_engine
from voiceguide.speech.cache import ClipCache, models_folder
from voiceguide.speech.clips import speak
from voiceguide.text.durations import parse_duration
from voiceguide.text.programme import LoadedProgramme, parse_programme, with_given_routines
from voiceguide.text.routine import Routine, builtin_text, parse_routine
from voiceguide.text.wording import MAX_TEMPLATE_BYTES, SUFFIX, TEMPLATES, Wording
from voiceguide.text.wording_check import check_templates

Progress = Callable[[str, int, int], None]
MAX_WORDING_ZIP_BYTES = 1_000_000
MAX_SAMPLE_CHARS = 200
#: The name a programme gives a routine file of the person's: a plain file name.
OWN_ROUTINE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,80}\.ya?ml")


class DraftError(VoiceguideError):
    """Something on the page cannot be used; the message says what, for the page.

    ``where`` names the part of the page: "routine", "programme", "hold", "voice", or a
    template's name (such as "reminder")."""

    def __init__(self, message: str, where: str = "routine") -> None:
        super().__init__(message)
        self.where = where


class Draft(BaseModel):
    """What the page sends to be planned, built or saved."""

    model_config = ConfigDict(extra="forbid")

    routine: dict[str, Any] = Field(default_factory=dict)
    #: A programme's mapping; when given, the draft is that programme and ``routine`` is unused.
    programme: dict[str, Any] | None = None
    #: The person's routine files the programme names, by the (plain) file name it uses.
    own_routines: dict[str, dict[str, Any]] = Field(default_factory=dict)
    hold: str = ""
    templates: dict[str, str] = Field(default_factory=dict)
    engine: str = "pyttsx3"
    voice: str | None = None
    rate: int = Field(default=DEFAULT_RATE, ge=80, le=300)


def read_draft(data: Any) -> Draft:
    try:
        return Draft.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DraftError(f"the page sent something unexpected: {where}: {first['msg']}") from None


# --- the routine ----------------------------------------------------------------------


def builtin_routine(name: str) -> dict[str, Any]:
    """A built-in routine as the page edits it: its YAML file's mapping."""
    data = yaml.safe_load(builtin_text(name))
    assert isinstance(data, dict)
    return data


def routine_yaml(routine: dict[str, Any]) -> str:
    """The routine as a YAML file, as ``voiceguide build FILE`` reads it."""
    return yaml.safe_dump(routine, sort_keys=False, allow_unicode=True, width=100)


def _unlined(e: RoutineError | str) -> str:
    # The line would be that of YAML the person never saw: the message names the field.
    return re.sub(r"^(.*?), line \d+:", r"\1:", str(e))


def read_routine(data: dict[str, Any], source: str = "the routine") -> Routine:
    """The routine a mapping describes, checked as a routine file is."""
    try:
        text = routine_yaml(data)
    except yaml.YAMLError as e:
        raise DraftError(f"{source}: {e}") from None
    try:
        return parse_routine(text, source)
    except RoutineError as e:
        raise DraftError(_unlined(e)) from None


def read_programme(data: dict[str, Any], own: dict[str, dict[str, Any]]) -> LoadedProgramme:
    """The programme a mapping describes, checked as a programme file is, with its
    routines: built-in ones by name, the person's own from ``own`` (mappings, by the
    file name the programme uses)."""
    routines: dict[str, Routine] = {}
    for name, routine in own.items():
        if not OWN_ROUTINE.fullmatch(name):
            raise DraftError(f"{name!r} is not a routine file's name, such as my-stretch.yaml",
                             "programme")  # fmt: skip
        try:
            routines[name] = parse_routine(routine_yaml(routine), name)
        except RoutineError as e:
            raise DraftError(_unlined(e), "programme") from None
        except yaml.YAMLError as e:
            raise DraftError(f"{name}: {e}", "programme") from None
    try:
        text = routine_yaml(data)
        return with_given_routines(parse_programme(text, "the programme"), "the programme",
                                   routines)  # fmt: skip
    except RoutineError as e:
        raise DraftError(_unlined(e), "programme") from None
    except yaml.YAMLError as e:
        raise DraftError(f"the programme: {e}", "programme") from None


def draft_content(draft: Draft) -> Routine | LoadedProgramme:
    """What the draft is: its programme if it has one, else its routine."""
    if draft.programme is None:
        return read_routine(draft.routine)
    return read_programme(draft.programme, draft.own_routines)


def draft_name(draft: Draft) -> str:
    """The routine's or programme's ``name:``, as the page has it."""
    name = (draft.programme if draft.programme is not None else draft.routine).get("name")
    return name if isinstance(name, str) else ""


def open_routine(text: str, source: str = "your file") -> dict[str, Any]:
    """A routine file's text, checked, as the page edits it."""
    try:
        parse_routine(text, source)
    except RoutineError as e:
        raise DraftError(str(e)) from None
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def hold_seconds(draft: Draft) -> float | None:
    if not draft.hold.strip():
        return None
    try:
        return parse_duration(draft.hold)
    except VoiceguideError as e:
        raise DraftError(str(e), "hold") from None


# --- the wording ----------------------------------------------------------------------


def builtin_folder() -> Path:
    return Path(str(resources.files("voiceguide.text.templates")))


def builtin_templates() -> dict[str, str]:
    return {name: (builtin_folder() / (name + SUFFIX)).read_text("utf-8") for name in TEMPLATES}


_VARIABLES = re.compile(r"Variables:(.*?)(?:#\}|$)", re.DOTALL)


def template_variables(text: str) -> str:
    """The variables a built-in template's opening comment lists, as one line."""
    found = _VARIABLES.search(text)
    return " ".join(found.group(1).split()).rstrip(".") if found else ""


def changed_templates(templates: dict[str, str]) -> dict[str, str]:
    """The templates that differ from the built-in ones; an unknown name is an error."""
    builtin = builtin_templates()
    changed: dict[str, str] = {}
    for name, text in templates.items():
        if name not in TEMPLATES:
            raise DraftError(f"{name!r} is not a template; the templates are: "
                             f"{', '.join(TEMPLATES)}", name)  # fmt: skip
        if len(text.encode("utf-8")) > MAX_TEMPLATE_BYTES:
            raise DraftError(
                f"{name}{SUFFIX} is too long; a template may be at most "
                f"{MAX_TEMPLATE_BYTES // 1000} kB",
                name,
            )
        if text.replace("\r\n", "\n") != builtin[name]:
            changed[name] = text.replace("\r\n", "\n")
    return changed


def wording_folder(workdir: Path, templates: dict[str, str]) -> Path | None:
    """A folder of the changed templates under ``workdir`` (named by their content), or
    None when none changed."""
    changed = changed_templates(templates)
    if not changed:
        return None
    key = hashlib.sha256(json.dumps(changed, sort_keys=True).encode()).hexdigest()[:20]
    folder = workdir / "wording" / key
    if not folder.is_dir():
        folder.mkdir(parents=True)
        for name, text in changed.items():
            atomic_write_bytes(folder / (name + SUFFIX), text.encode("utf-8"))
    return folder


def check_wording(workdir: Path, templates: dict[str, str]) -> None:
    """Every changed template renders, whether the draft's session speaks it or not
    (a 20-second hold has no halfway cue): see voiceguide/text/wording_check.py."""
    folder = wording_folder(workdir, templates)
    if folder is None:
        return
    try:
        check_templates(Wording(folder), changed_templates(templates))
    except TemplateError as e:
        raise _template_error(e, folder) from None


def _template_error(e: TemplateError, folder: Path | None) -> DraftError:
    """A template error with the studio's folders left out, naming the template."""
    message = str(e)
    for place in (folder, builtin_folder()):
        if place is not None:
            message = message.replace(f"{place}/", "")
    found = re.match(r"(\w+)\.j2\b", message)
    if found:
        return DraftError(message, found.group(1))
    return DraftError(_unlined(message), "routine")  # a text of the routine: "steps 3"


def wording_zip(templates: dict[str, str]) -> bytes:
    """Every template, as the page has it, in a zip for ``--templates`` once unpacked."""
    changed = changed_templates(templates)
    builtin = builtin_templates()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in TEMPLATES:
            archive.writestr(f"wording/{name}{SUFFIX}", changed.get(name, builtin[name]))
    return out.getvalue()


def open_wording_zip(data: bytes) -> dict[str, str]:
    """The templates in a zip of a wording folder (any subset of them)."""
    if len(data) > MAX_WORDING_ZIP_BYTES:
        raise DraftError(f"the zip is too big; at most {MAX_WORDING_ZIP_BYTES // 1000} kB", "zip")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        found: dict[str, str] = {}
        for info in archive.infolist():
            name = Path(info.filename).name
            if info.is_dir() or not name.endswith(SUFFIX):
                continue
            stem = name.removesuffix(SUFFIX)
            if stem not in TEMPLATES:
                raise DraftError(f"{name} is not a voiceguide template; the templates are: "
                                 f"{', '.join(n + SUFFIX for n in TEMPLATES)}", "zip")  # fmt: skip
            if info.file_size > MAX_TEMPLATE_BYTES:
                raise DraftError(f"{name} is too long for a template", "zip")
            found[stem] = archive.read(info).decode("utf-8")
    except (zipfile.BadZipFile, UnicodeDecodeError, EOFError) as e:
        raise DraftError(f"that is not a zip of templates: {e}", "zip") from None
    if not found:
        raise DraftError("the zip holds no templates (.j2 files)", "zip")
    return found


# --- planning and building -------------------------------------------------------------


class Engines:
    """Speech engines kept between uses, one at a time (an engine keeps workers)."""

    def __init__(self) -> None:
        self._engines: dict[tuple[str, str | None, int], SpeechEngine] = {}
        self.lock = threading.Lock()

    def get(self, draft: Draft) -> SpeechEngine:
        if draft.engine not in ENGINES:
            raise DraftError(f"unknown speech engine {draft.engine!r}", "voice")
        key = (draft.engine, draft.voice or None, draft.rate)
        if key not in self._engines:
            try:
                self._engines[key] = get_engine(
                    draft.engine, draft.voice or None, draft.rate, keep=models_folder()
                )
            except VoiceguideError as e:
                raise DraftError(str(e), "voice") from None
        return self._engines[key]

    def close(self) -> None:
        for engine in self._engines.values():
            close = getattr(engine, "close", None)
            if close is not None:
                close()
        self._engines.clear()


def session_options(draft: Draft, workdir: Path) -> SessionOptions:
    return SessionOptions(
        routine=draft_content(draft),
        hold=hold_seconds(draft),
        templates=wording_folder(workdir, draft.templates),
        engine=draft.engine,
        voice=draft.voice or None,
        rate=draft.rate,
    )


def plan_draft(draft: Draft, workdir: Path, engines: Engines) -> Timeline:
    """The timeline of the session the draft describes: speech measured (from the cache,
    or spoken now), then planned; no audio is rendered."""
    options = session_options(draft, workdir)
    try:
        routine, sheet = cue_sheet(options)
    except TemplateError as e:
        raise _template_error(e, options.templates) from None
    except VoiceguideError as e:
        raise DraftError(str(e), _where(draft, str(e))) from None
    check_wording(workdir, draft.templates)
    with engines.lock:
        engine = engines.get(draft)
        try:
            speech = speak(sheet.texts(), engine, ClipCache(), lambda *_: None)
        except VoiceguideError as e:
            raise DraftError(str(e), "voice") from None
    chimes = load_chimes(session_extras(options, routine))
    return plan(
        sheet,
        {text: samples(clip) for text, clip in speech.items()},
        {role: samples(clip) for role, clip in chimes.items()},
        options.pacing,
        choose_format(None, None).exact_length,
    )


def _where(draft: Draft, message: str) -> str:
    """The part of the page a problem in planning is about."""
    if "hold" in message and (draft.programme is None or draft.hold.strip()):
        return "hold"
    return "routine" if draft.programme is None else "programme"


def build_draft(
    draft: Draft, workdir: Path, folder: Path, engines: Engines, progress: Progress
) -> BuildResult:
    """Build the draft's session into ``folder``: session.mp3 and session.vtt."""
    options = session_options(draft, workdir)
    engine = engines.get(draft)
    try:
        return build_session(
            options,
            folder / "session.mp3",
            engine=engine,
            progress=progress,
            transcript=folder / "session.vtt",
        )
    except TemplateError as e:
        raise _template_error(e, options.templates) from None


def speak_sample(draft: Draft, text: str, target: Path, engines: Engines) -> None:
    """One line in the draft's voice, as a WAV file."""
    line = " ".join(text.split())[:MAX_SAMPLE_CHARS] or "This is how I sound."
    with engines.lock:
        engine = engines.get(draft)
        try:
            clip = speak([line], engine, ClipCache(), lambda *_: None)[line]
        except VoiceguideError as e:
            raise DraftError(str(e), "voice") from None
    clip.export(str(target), format="wav")
