"""Compose the spoken lines of a programme: one welcome, each exercise, rests, one goodbye.

Pure, like :func:`voiceguide.text.cues.compose`: each exercise is its routine's
set-up, holds and release (:func:`~voiceguide.text.cues.exercise_sections`),
numbered in the session; between exercises a rest says what comes next.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from voiceguide.text.cues import (
    CueSheet,
    Line,
    Section,
    base_context,
    chime_kind,
    chime_label,
    exercise_sections,
    spoken,
    validate_hold,
)
from voiceguide.text.durations import duration_words
from voiceguide.text.extras import Countdown, Extras
from voiceguide.text.programme import LoadedProgramme, Slot, slots
from voiceguide.text.pronounce import Lexicon
from voiceguide.text.wording import Wording


def compose_programme(
    loaded: LoadedProgramme,
    wording: Wording,
    hold: float | None = None,
    extras: Extras | None = None,
) -> CueSheet:
    """The cue sheet of a whole programme; ``hold``, if given, is every exercise's hold."""
    programme = loaded.programme
    extras = programme.extras.to_extras() if extras is None else extras
    done = slots(programme, loaded.routines)
    holds = [_hold_of(slot, hold) for slot in done]
    notes: list[str] = []
    for slot, seconds in zip(done, holds, strict=True):
        validate_hold(seconds)
        if seconds < slot.routine.hold.minimum:
            notes.append(
                f"note: exercise {slot.number} ({slot.title}): a hold of "
                f"{duration_words(seconds)} is shorter than the "
                f"{duration_words(slot.routine.hold.minimum)} its routine recommends"
            )
    about = [_about(slot, seconds) for slot, seconds in zip(done, holds, strict=True)]
    whole: dict[str, Any] = {
        "programme": {"name": programme.name, "title": programme.title, "intro": "", "outro": ""},
        "exercises_total": len(done),
        "exercises": about,
        "start_chime": chime_kind(extras.start_chime),
        "end_chime": chime_kind(extras.end_chime),
        "countdown_from": extras.countdown.start if extras.countdown else 0,
    }
    source = f"{programme.name}: "
    whole["programme"]["intro"] = wording.render_text(programme.intro, source + "intro", whole)
    whole["programme"]["outro"] = wording.render_text(programme.outro, source + "outro", whole)

    welcome = Line("intro", wording.render("programme_intro", whole), None, 1.5)
    sections: list[Section] = [(welcome,)]
    for index, (slot, seconds) in enumerate(zip(done, holds, strict=True)):
        ctx = {**whole, "exercise": about[index], "round": slot.round, "rounds": slot.rounds,
               "is_last": index == len(done) - 1}  # fmt: skip
        opening: list[Line] = []
        if slot.round_starts:
            opening.append(Line("round_start", wording.render("round_start", ctx), None, 1.0,
                                slot.number))  # fmt: skip
        opening.append(
            Line("exercise_start", wording.render("exercise_start", ctx), None, 1.0, slot.number)
        )
        sections.append(tuple(opening))
        own = _extras_of(slot, extras)
        base = base_context(slot.routine, seconds, slot.sides, own)
        base["routine"]["why"] = slot.routine.why  # not spoken in a programme; for templates
        sections += exercise_sections(slot.routine, wording, base, slot.sides, own, slot.number)
        if slot.rest_after > 0:
            sections.append(_rest(wording, ctx, slot, about[index + 1], done[index + 1]))
    sections.append((Line("outro", wording.render("programme_outro", whole)),))
    return CueSheet(
        routine=programme.name,
        title=programme.title,
        hold_seconds=max(holds),
        sections=spoken(sections),
        notes=tuple(notes),
        start_chime=chime_label(extras.start_chime),
        end_chime=chime_label(extras.end_chime),
        chime_gain=extras.chime_volume,
        exercises=tuple(slot.title for slot in done),
        pronounce=Lexicon.of(*(r.pronounce for r in loaded.routines.values()), programme.pronounce),
    )


def _hold_of(slot: Slot, hold: float | None) -> float:
    if hold is not None:
        return hold
    return slot.exercise.hold if slot.exercise.hold is not None else slot.routine.hold.default


def _about(slot: Slot, seconds: float) -> dict[str, Any]:
    """An exercise as templates see it."""
    return {
        "title": slot.title,
        "number": slot.number,
        "hold": seconds,
        "sides": list(slot.sides),
        "sides_total": len(slot.sides),
        "round": slot.round,
        "rounds": slot.rounds,
    }


def _extras_of(slot: Slot, extras: Extras) -> Extras:
    """The session's extras, with the exercise's own countdown choice."""
    if slot.exercise.countdown is None:
        return extras
    if not slot.exercise.countdown:
        return replace(extras, countdown=None)
    return extras if extras.countdown is not None else replace(extras, countdown=Countdown())


def _rest(
    wording: Wording, ctx: dict[str, Any], slot: Slot, following: dict[str, Any], then: Slot
) -> tuple[Line, ...]:
    """The rest after ``slot``: it begins, the next exercise is named, then quiet.

    The rest belongs to the exercise that follows, as its chapter's start."""
    rest_ctx = {**ctx, "rest": slot.rest_after, "next": following,
                "round": then.round, "rounds": then.rounds}  # fmt: skip
    return (
        Line("rest", wording.render("rest", rest_ctx), None, 0.5, then.number),
        Line("next_up", wording.render("next_up", rest_ctx), None, slot.rest_after, then.number),
    )
