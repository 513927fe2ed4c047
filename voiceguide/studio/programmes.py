"""Programmes in the studio: the built-in ones, and the person's own opened and saved.

A programme names routines: built-in ones by name, which stay so, and routine
files of the person's. The page cannot read files by path, so a programme that
names routine files is opened together with them (several files chosen at once,
or a zip), and is saved as a zip of the programme with those files beside it:
unpacked, ``voiceguide build NAME/NAME.yaml`` reads it as it is, and the studio
opens the zip again. Routine files are named by their plain file name
(``my-stretch.yaml``); a folder in the name is dropped when the programme is
opened, as the files are side by side in its zip.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from voiceguide.errors import RoutineError
from voiceguide.studio.work import (
    OWN_ROUTINE,
    DraftError,
    open_routine,
    read_programme,
    routine_yaml,
)
from voiceguide.text.durations import format_compact
from voiceguide.text.programme import (
    builtin_programme_text,
    exercises,
    is_programme_text,
    parse_programme,
)
from voiceguide.text.routine import MAX_ROUTINE_BYTES, builtin_names, is_file_ref, load_routine

MAX_FILES = 20  # a programme and the routine files it names, in one opening


def builtin_programme(name: str) -> dict[str, Any]:
    """A built-in programme as the page edits it: its YAML file's mapping."""
    data = yaml.safe_load(builtin_programme_text(name))
    assert isinstance(data, dict)
    return data


@cache
def catalogue() -> dict[str, dict[str, Any]]:
    """What the programme form shows of each built-in routine: its title, default hold
    and sides."""
    found: dict[str, dict[str, Any]] = {}
    for name in builtin_names():
        routine = load_routine(name)
        found[name] = {"title": routine.title, "hold": format_compact(routine.hold.default),
                       "sides": routine.sides}  # fmt: skip
    return found


# --- opening --------------------------------------------------------------------------


def _renamed(items: list[Any], rename: Callable[[str], str]) -> list[Any]:
    """A programme's ``exercises:`` with each routine reference renamed."""
    out: list[Any] = []
    for item in items:
        if isinstance(item, str):
            out.append(rename(item))
        elif isinstance(item, dict) and isinstance(item.get("exercises"), list):
            out.append({**item, "exercises": _renamed(item["exercises"], rename)})
        elif isinstance(item, dict) and isinstance(item.get("routine"), str):
            out.append({**item, "routine": rename(item["routine"])})
        else:
            out.append(item)
    return out


def open_files(files: list[tuple[str, str]]) -> dict[str, Any]:
    """Files the person opened, as (file name, text): one routine, or one programme with
    the routine files it names. Answers ``{"routine": ...}`` or ``{"programme": ...,
    "own_routines": ...}``, as the page edits them."""
    if not files:
        raise DraftError("no file was opened", "open")
    if len(files) > MAX_FILES:
        raise DraftError(f"too many files: open at most {MAX_FILES} at once", "open")
    programmes = [(name, text) for name, text in files if is_programme_text(text)]
    if not programmes:
        if len(files) > 1:
            raise DraftError("open one routine file, or a programme with the routine files "
                             "it names", "open")  # fmt: skip
        try:
            return {"routine": open_routine(files[0][1])}
        except DraftError as e:
            raise DraftError(str(e), "open") from None
    if len(programmes) > 1:
        names = ", ".join(name for name, _ in programmes)
        raise DraftError(f"open one programme at a time ({names} are programmes)", "open")
    name, text = programmes[0]
    source = Path(name).name or "your programme"
    try:
        parsed = parse_programme(text, source)  # its errors, with the line in the person's file
    except RoutineError as e:
        raise DraftError(str(e), "open") from None
    own: dict[str, dict[str, Any]] = {}
    for other, routine_text in files:
        if (other, routine_text) == programmes[0]:
            continue
        base = Path(other).name
        if not OWN_ROUTINE.fullmatch(base):
            raise DraftError(f"{base!r}: a routine file's name ends in .yaml, such as "
                             "my-stretch.yaml", "open")  # fmt: skip
        if base in own:
            raise DraftError(f"two routine files are called {base}", "open")
        try:
            own[base] = open_routine(routine_text, base)
        except DraftError as e:
            raise DraftError(str(e), "open") from None
    data = yaml.safe_load(text)
    missing = sorted(
        {Path(e.routine).name for e in exercises(parsed)
         if is_file_ref(e.routine) and Path(e.routine).name not in own}
    )  # fmt: skip
    if missing:
        raise DraftError(
            f"{source} names your routine file{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}: open {'them' if len(missing) > 1 else 'it'} together with "
            "the programme (choose the files at once), or open the zip the studio saved",
            "open",
        )
    data["exercises"] = _renamed(data["exercises"], lambda r: Path(r).name if is_file_ref(r) else r)
    try:
        read_programme(data, own)  # such as sides an exercise's routine does not have
    except DraftError as e:
        raise DraftError(str(e), "open") from None
    return {"programme": data, "own_routines": own}


def _kept(info: zipfile.ZipInfo) -> bool:
    """A routine or programme file in a zip (not a folder, nor a hidden file such as the
    ._NAME.yaml beside each file in a zip made on a Mac)."""
    name = Path(info.filename).name
    return not info.is_dir() and name.endswith((".yaml", ".yml")) and not name.startswith(".")


def open_zip(data: bytes) -> dict[str, Any]:
    """A zip the studio saved (a programme and its routine files), opened as
    :func:`open_files` opens the files in it."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        found = [i for i in archive.infolist() if _kept(i)]
        if len(found) > MAX_FILES:
            raise DraftError(f"too many files in the zip: at most {MAX_FILES}", "open")
        files: list[tuple[str, str]] = []
        for info in found:
            name = Path(info.filename).name
            if info.file_size > MAX_ROUTINE_BYTES:
                raise DraftError(f"{name} is too big for a routine or programme", "open")
            files.append((name, archive.read(info).decode("utf-8")))
    except (zipfile.BadZipFile, UnicodeDecodeError, EOFError) as e:
        raise DraftError(f"that is not a zip of a programme: {e}", "open") from None
    if not files:
        raise DraftError("the zip holds no routine or programme (.yaml files)", "open")
    return open_files(files)


# --- saving ---------------------------------------------------------------------------


def programme_file(data: dict[str, Any], own: dict[str, dict[str, Any]]) -> tuple[str, bytes]:
    """The programme to keep, checked: ``NAME.yaml`` when it names built-in routines only,
    else ``NAME.zip`` holding ``NAME/NAME.yaml`` and the routine files it names beside it.
    Answers (file name, content)."""
    loaded = read_programme(data, own)
    name = loaded.programme.name
    text = routine_yaml(data)
    used = sorted({e.routine for e in exercises(loaded.programme) if is_file_ref(e.routine)})
    if not used:
        return f"{name}.yaml", text.encode("utf-8")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{name}/{name}.yaml", text)
        for ref in used:
            archive.writestr(f"{name}/{ref}", routine_yaml(own[ref]))
    return f"{name}.zip", out.getvalue()
