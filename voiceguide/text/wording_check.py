"""Check every cue template of a wording, whether a given session speaks it or not.

A session renders only the cues it speaks: a 20-second hold has no halfway cue, and a
routine no programme cues. So a mistake in one of those would wait, unseen, for the
session that speaks it. :func:`check_templates` renders each template named with the
values a real session gives it: those of a probe, the hamstring routine with a
countdown over ten-minute holds and a programme with a group of rounds, which between
them speak every template (:func:`probe_contexts` checks that they do). An error names
the template and its line, as in a build.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from voiceguide.text.cues import compose
from voiceguide.text.extras import Countdown
from voiceguide.text.programme import parse_programme, with_given_routines
from voiceguide.text.programme_cues import compose_programme
from voiceguide.text.routine import load_routine
from voiceguide.text.wording import TEMPLATES, Wording

PROBE_HOLD = 600.0  # seconds: long enough for every cue timed within a hold
PROBE_PROGRAMME = """\
name: probe
title: Probe
exercises:
  - hamstring
  - rounds: 2
    rest: 10s
    exercises: [cat-cow, pelvic-tilt]
"""


def check_templates(wording: Wording, names: Iterable[str]) -> None:
    """Render each template of ``names`` with ``wording``; a mistake raises its
    :class:`~voiceguide.errors.TemplateError`, naming the template and the line."""
    contexts = probe_contexts()
    for name in names:
        wording.render(name, contexts[name])


@functools.cache
def probe_contexts() -> Mapping[str, Mapping[str, Any]]:
    """The values each template is rendered with, the first time the probe speaks it."""
    seen: dict[str, Mapping[str, Any]] = {}

    class Recording(Wording):
        def render(self, name: str, context: Mapping[str, Any]) -> str:
            seen.setdefault(name, dict(context))
            return super().render(name, context)

    routine = load_routine("hamstring")
    extras = replace(routine.extras.to_extras(), countdown=Countdown())
    compose(routine, Recording(), PROBE_HOLD, extras)
    programme = parse_programme(PROBE_PROGRAMME, "the probe")
    compose_programme(with_given_routines(programme, "the probe", {}), Recording())
    missing = [name for name in TEMPLATES if name not in seen]
    assert not missing, f"the probe speaks no {', '.join(missing)}"
    return seen
