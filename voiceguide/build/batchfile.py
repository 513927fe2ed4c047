"""Batch files: the sessions to make, each with its own settings (``voiceguide batch``).

A session may set what the options of ``voiceguide build`` set, under the same
names (``voice_model`` for ``--voice-model``), extras included: ``countdown:
false`` is ``--no-countdown``, ``volume: {pacer: -24}`` is ``--volume pacer=-24``.
``defaults:`` applies to every session; a session's own keys win. Paths are
relative to the batch file. The whole file is checked before anything is built,
and an error names the line it is on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from voiceguide.build.batch import Job
from voiceguide.build.keys import key_message, keys_model, options_from_keys
from voiceguide.build.options import IMPLIED
from voiceguide.errors import BatchError
from voiceguide.files import read_user_text
from voiceguide.text.extras_change import VolumeOf
from voiceguide.text.yamlfile import line_of, load_yaml, located, unknown_key

MAX_BATCH_BYTES = 1_000_000
MAX_SESSIONS = 1000

#: A session in a batch file: every key of :data:`voiceguide.build.options.FILE_KEYS`,
#: each optional. (Made from the declarations as the module loads: to mypy, any model.)
Entry: Any = keys_model(name="Entry")


class BatchFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    defaults: Annotated[Entry, BeforeValidator(lambda v: {} if v is None else v)] = Entry()
    sessions: list[Entry] = Field(min_length=1, max_length=MAX_SESSIONS)


def load_batch(path: Path, folder: Path | None = None) -> list[Job]:
    """The sessions listed in a batch file.

    Routine, template and sound paths in the file are relative to the file.
    Outputs go into ``folder`` if given (it must exist), else beside the batch file.
    """
    source = str(path)
    text = read_user_text(path, "batch", MAX_BATCH_BYTES, BatchError)
    if folder is not None and not folder.is_dir():
        raise BatchError(f"{folder} is not a folder; give an existing folder for the sessions")
    batch, node = _parse(text, source)
    base = path.parent
    jobs = []
    for number, entry in enumerate(batch.sessions, start=1):
        merged, fallback = _merged(batch.defaults, entry)
        where = line_of(node, ("sessions", number - 1))
        label = f"{source}, line {where}: session {number}"
        jobs.append(_job(merged, fallback, base, folder or base, label))
    return jobs


def _merged(defaults: Any, entry: Any) -> tuple[Any, dict[VolumeOf, float]]:
    """``entry`` over ``defaults`` (its own keys win), and the defaults' volumes for
    the extras it does not set a volume for: those apply only to the extras that the
    session has (a volume the session itself gives for an extra it lacks is an error).

    Turning an extra off in the session drops the defaults' setting for it (such as
    ``countdown_from``); a setting in the session turns on an extra that the
    defaults turn off."""
    given = entry.model_dump(exclude_none=True)
    base = defaults.model_dump(exclude_none=True)
    for switch, setting in IMPLIED.items():
        if given.get(switch) is False:
            base.pop(setting, None)
        if setting in given and base.get(switch) is False:
            del base[switch]
    volumes: dict[VolumeOf, float] = base.pop("volume", {})
    merged = Entry.model_validate({**base, **given})
    own = merged.volume or {}
    return merged, {name: db for name, db in volumes.items() if name not in own}


def _job(entry: Any, fallback: dict[VolumeOf, float], base: Path, folder: Path, label: str) -> Job:
    values = entry.model_dump(exclude_none=True)
    options = options_from_keys(values, base, fallback_volumes=tuple(fallback.items()))
    output = values.get("output")
    return Job(options, Path(output) if output else None, folder, label)


def _parse(text: str, source: str) -> tuple[BatchFile, Any]:
    data, node = load_yaml(text, source, BatchError)
    if not isinstance(data, dict):
        raise BatchError(
            f"{source}: a batch file must be a mapping with a list of sessions: "
            "(and optional defaults:)"
        )
    try:
        return BatchFile.model_validate(data), node
    except ValidationError as e:
        raise BatchError(located(e, node, source, _describe)) from None


def _describe(error: Any, loc: tuple[Any, ...]) -> str:
    if error["type"] == "extra_forbidden":
        model = BatchFile if len(loc) == 1 else Entry
        where = _name(loc[:-1])
        said = unknown_key(str(loc[-1]), sorted(model.model_fields))
        return f"{where}: {said}" if where else said
    if error["type"] == "missing":
        return f"{_name(loc)} is required"
    head, keys = _entry(loc)
    said = key_message(error, keys)
    return f"{head}: {said}" if head else said if keys else f"batch: {said}"


def _entry(loc: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """The session (``session 2``) or ``defaults`` that ``loc`` is in, if any, and
    where in it."""
    if loc[:1] == ("sessions",) and len(loc) > 1 and isinstance(loc[1], int):
        return f"session {loc[1] + 1}", loc[2:]
    if loc[:1] == ("defaults",) and len(loc) > 1:
        return "defaults", loc[1:]
    return "", loc


def _name(loc: tuple[Any, ...]) -> str:
    """Where in the file: ``session 2: volume.pacer``, ``defaults: rate``, ``sessions``."""
    head, parts = _entry(loc)
    rest = ".".join(str(p) for p in parts)
    return f"{head}: {rest}" if head and rest else head or rest
