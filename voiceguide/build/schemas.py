"""JSON Schemas of the files people write, derived from the models that read them.

An editor with a YAML language server completes and checks a routine, programme
or batch file as it is typed, given its schema (``voiceguide schema routine``).
The schema admits the short forms the loaders accept (``hold: 5m``, a step as a
plain string, ``countdown: true``); checks that need the file system (does a sound
file exist?) or that span fields (a side listed twice) are the loaders' alone.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from voiceguide.build.batchfile import BatchFile
from voiceguide.text.programme import Programme
from voiceguide.text.routine import Routine

MODELS: dict[str, type[BaseModel]] = {
    "routine": Routine,
    "programme": Programme,
    "batch": BatchFile,
}
DIALECT = "https://json-schema.org/draft/2020-12/schema"


#: The bounds pydantic leaves in its own words where a value is checked after a
#: conversion (a duration, a number given as text), and their JSON Schema names.
BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of a ``kind`` of file: routine, programme or batch."""
    found = MODELS[kind].model_json_schema(mode="validation")
    standard: dict[str, Any] = _standard(found)
    return {"$schema": DIALECT, **standard, "title": f"voiceguide {kind} file"}


def _standard(node: Any) -> Any:
    """``node`` with pydantic's bounds as JSON Schema's: on a number, or on the number
    branch of a choice (a duration is a number of seconds, or text such as 5m)."""
    if isinstance(node, list):
        return [_standard(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _standard(value) for key, value in node.items() if key not in BOUNDS}
    choice = out.get("anyOf", [])
    if [b.get("type") for b in choice] == ["number", "string"]:  # a duration: never 0 or less
        choice[0].setdefault("exclusiveMinimum", 0)
    bounds = {BOUNDS[key]: value for key, value in node.items() if key in BOUNDS}
    if not bounds:
        return out
    numbers = [b for b in out.get("anyOf", []) if b.get("type") in ("number", "integer")]
    for target in numbers or [out]:
        target.update(bounds)
    return out
