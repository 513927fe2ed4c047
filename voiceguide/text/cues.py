"""Compose the spoken lines of a session from a routine, its options and the wording.

This is pure: it renders text but makes no audio and knows nothing of how long a
line takes to say. The planner turns the result into a timeline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from voiceguide.errors import PlanError
from voiceguide.text.durations import duration_words
from voiceguide.text.extras import CHIME_WORDS, ChimeSound, Extras
from voiceguide.text.pronounce import Lexicon
from voiceguide.text.routine import MAX_HOLD_SECONDS, Routine
from voiceguide.text.wording import Wording

MIN_HOLD_SECONDS = 10.0
FINAL_SECONDS = 10
# Priorities of the cues during a hold: lower numbers are placed first and dropped last.
PRIORITY_COUNTDOWN = -1
PRIORITY_FINAL, PRIORITY_HALFWAY, PRIORITY_TIME_LEFT, PRIORITY_REMINDER = 0, 1, 2, 10
COUNTDOWN = "countdown"


@dataclass(frozen=True)
class Line:
    """A line spoken in sequence, followed by ``pause_after`` seconds of quiet."""

    role: str
    text: str
    side: str | None = None
    pause_after: float = 0.0
    exercise: int = 0  # the number of the programme's exercise it belongs to; 0: none


@dataclass(frozen=True)
class HoldCue:
    """A line spoken during a hold: at ``at`` seconds into it, or wherever it fits.

    A cue timed by the time left (``from_end``: the countdown, the minutes left,
    the last seconds) is placed counting back from the end of the hold, so that it
    sits exactly a whole number of seconds before the end chime whatever the hold.
    """

    role: str
    text: str
    priority: int
    at: float | None = None
    gain: float = 0.0  # dB, the cue's own volume (the countdown's)
    from_end: bool = False


@dataclass(frozen=True)
class HoldCues:
    side: str
    seconds: float
    cues: tuple[HoldCue, ...]
    exercise: int = 0  # the number of the programme's exercise it belongs to; 0: none


Section = tuple[Line, ...] | HoldCues


@dataclass(frozen=True)
class CueSheet:
    """Everything a session says, in order, before it is timed."""

    routine: str
    title: str
    hold_seconds: float
    sections: tuple[Section, ...]
    notes: tuple[str, ...] = ()
    #: What marks each hold's start and end: "default", "off", or a sound file's name.
    start_chime: str = "default"
    end_chime: str = "default"
    chime_gain: float = 0.0  # dB, the chimes' own volume
    #: A programme's exercises, by number from 1 (their titles); empty for one routine.
    exercises: tuple[str, ...] = ()
    #: Words the engine says wrongly, and how to say them; only the engine hears them.
    pronounce: Lexicon = field(default_factory=Lexicon)

    def texts(self) -> list[str]:
        """Every distinct spoken text, in order of first use."""
        seen: dict[str, None] = {}
        for section in self.sections:
            lines = section.cues if isinstance(section, HoldCues) else section
            for line in lines:
                seen.setdefault(line.text, None)
        return list(seen)


def validate_hold(seconds: float) -> None:
    if seconds < MIN_HOLD_SECONDS:
        # (In words when whole: 9.5 s said "ten seconds" once rounded.)
        got = duration_words(seconds) if seconds == round(seconds) else f"{seconds} seconds"
        raise PlanError(
            f"a hold must be at least {duration_words(MIN_HOLD_SECONDS)}, "
            f"got {got}; give {MIN_HOLD_SECONDS:g}s or more, such as 1m"
        )
    if seconds > MAX_HOLD_SECONDS:
        raise PlanError(
            f"a hold may be at most {duration_words(MAX_HOLD_SECONDS)} per side, "
            f"got {seconds:g} seconds"
        )


def chime_kind(sound: ChimeSound) -> str:
    """A chime choice as templates see it: "default", "file" or "off"."""
    return "file" if not isinstance(sound, str) else sound


def chime_label(sound: ChimeSound) -> str:
    """A chime choice as scripts and transcripts show it: "default", "off" or the file's name
    (``./off`` for a file named like one of those words, as it is written to choose it)."""
    if isinstance(sound, str):
        return sound
    return f"./{sound.name}" if sound.name in CHIME_WORDS else sound.name


def compose(
    routine: Routine,
    wording: Wording,
    hold: float | None = None,
    extras: Extras | None = None,
    sides: Sequence[str] | None = None,
) -> CueSheet:
    """The cue sheet of a session of ``routine`` with ``hold`` seconds per side.

    ``extras`` (default: the routine's own) adds the countdown and sets the chimes;
    ``sides`` (default: all the routine's) are the sides done, in the routine's order."""
    extras = routine.extras.to_extras() if extras is None else extras
    hold_seconds = routine.hold.default if hold is None else hold
    validate_hold(hold_seconds)
    notes: list[str] = []
    if hold_seconds < routine.hold.minimum:
        notes.append(
            f"note: a hold of {duration_words(hold_seconds)} is shorter than the "
            f"{duration_words(routine.hold.minimum)} this routine recommends"
        )
    done = chosen_sides(routine, sides)
    base = base_context(routine, hold_seconds, done, extras)
    base["routine"]["why"] = wording.render_text(routine.why, routine.place("why"), base)
    outro = wording.render_text(routine.outro, routine.place("outro"), base)
    sections: list[Section] = [(_line(wording, "intro", base, pause_after=1.5),)]
    sections += exercise_sections(routine, wording, base, done, extras)
    sections.append((_line(wording, "outro", {**base, "outro": outro}),))
    return CueSheet(
        routine=routine.name,
        title=routine.title,
        hold_seconds=hold_seconds,
        sections=spoken(sections),
        notes=tuple(notes),
        start_chime=chime_label(extras.start_chime),
        end_chime=chime_label(extras.end_chime),
        chime_gain=extras.chime_volume,
        pronounce=Lexicon.of(routine.pronounce),
    )


def chosen_sides(routine: Routine, sides: Sequence[str] | None) -> list[str]:
    """The routine's sides that ``sides`` names, in the routine's order (all if None)."""
    if sides is None:
        return list(routine.sides)
    known = {s.lower(): s for s in routine.sides}
    unknown = [s for s in sides if s.lower() not in known]
    if not routine.sides:
        raise PlanError(
            f"--sides {','.join(sides)}: {routine.title} has no sides (it is done as one, "
            "with one hold); leave --sides out"
        )
    if unknown or not sides:
        raise PlanError(
            f"--sides {','.join(sides)}: {routine.title} has the sides "
            f"{', '.join(routine.sides)}; name one or more of them, such as --sides "
            f"{routine.sides[0]}"
        )
    wanted = {s.lower() for s in sides}
    return [s for s in routine.sides if s.lower() in wanted]


def base_context(
    routine: Routine, hold_seconds: float, sides: list[str], extras: Extras
) -> dict[str, Any]:
    """The template variables every line of a routine's part of a session has."""
    return {
        "routine": {"name": routine.name, "title": routine.title, "why": ""},
        "hold": hold_seconds,
        "minimum_hold": routine.hold.minimum,
        "sides": list(sides),
        "sides_total": len(sides),
        "steps_total": len(routine.steps),
        "start_chime": chime_kind(extras.start_chime),
        "end_chime": chime_kind(extras.end_chime),
        "countdown_from": extras.countdown.start if extras.countdown else 0,
    }


def exercise_sections(
    routine: Routine,
    wording: Wording,
    base: dict[str, Any],
    sides: list[str],
    extras: Extras,
    exercise: int = 0,
) -> list[Section]:
    """Each side's set-up, hold, release and switch: a routine without its welcome
    and closing words. A routine with no sides has one hold, of side ``""``."""
    sections: list[Section] = []
    done = sides or [""]
    for number, side in enumerate(done, start=1):
        ctx = {
            **base,
            "side": side,
            "side_number": number,
            "other_side": done[number % len(done)] if len(done) > 1 else side,
        }
        sections.append(_setup(routine, wording, ctx, exercise))
        sections.append(_hold(routine, wording, ctx, extras, exercise))
        release = wording.render_text(routine.release, routine.place("release"), ctx)
        after = [_line(wording, "release", {**ctx, "release": release}, 3.0, exercise)]
        if number < len(done):
            next_ctx = {**ctx, "next_side": done[number]}
            after.append(_line(wording, "switch_sides", next_ctx, 2.0, exercise))
        sections.append(tuple(after))
    return sections


def spoken(sections: list[Section]) -> tuple[Section, ...]:
    """The sections without their empty lines: a template or text that renders
    empty is simply not spoken."""
    kept = [s if isinstance(s, HoldCues) else tuple(x for x in s if x.text) for s in sections]
    return tuple(s for s in kept if s)


def _line(
    wording: Wording, role: str, ctx: dict[str, Any], pause_after: float = 0.0, exercise: int = 0
) -> Line:
    side = ctx.get("side")
    return Line(role, wording.render(role, ctx), side, pause_after, exercise)


def _setup(
    routine: Routine, wording: Wording, ctx: dict[str, Any], exercise: int = 0
) -> tuple[Line, ...]:
    lines = [_line(wording, "side_start", ctx, 1.0, exercise)]
    for number, step in enumerate(routine.steps, start=1):
        text = wording.render_text(step.text, routine.place("steps", number - 1), ctx)
        step_ctx = {**ctx, "step": {"text": text, "number": number}}
        lines.append(_line(wording, "step", step_ctx, routine.pause_after(step), exercise))
    lines.append(_line(wording, "hold_start", ctx, 0.0, exercise))
    return tuple(lines)


def _hold(
    routine: Routine, wording: Wording, ctx: dict[str, Any], extras: Extras, exercise: int = 0
) -> HoldCues:
    hold = float(ctx["hold"])
    cues: list[HoldCue] = []
    if extras.countdown is not None:
        # One number a second; the last, one second before the hold ends.
        for number in range(extras.countdown.start, 0, -1):
            text = wording.render(COUNTDOWN, {**ctx, "number": number, "time_left": number})
            if text:
                cues.append(
                    HoldCue(COUNTDOWN, text, PRIORITY_COUNTDOWN, hold - number,
                            extras.countdown.volume, from_end=True)
                )  # fmt: skip

    def timed(
        role: str, priority: int, elapsed: float, from_end: bool = True, **extra: Any
    ) -> None:
        text = wording.render(
            role, {**ctx, "elapsed": elapsed, "time_left": hold - elapsed, **extra}
        )
        if text:
            cues.append(HoldCue(role, text, priority, at=elapsed, from_end=from_end))

    if hold >= 3 * FINAL_SECONDS:
        timed("final_seconds", PRIORITY_FINAL, hold - FINAL_SECONDS)
        timed("halfway", PRIORITY_HALFWAY, hold / 2, from_end=False)
    for minutes in range(math.ceil(hold / 60) - 1, 0, -1):
        elapsed = hold - 60 * minutes
        if (minutes <= 5 or minutes % 5 == 0) and elapsed != hold / 2:
            timed("time_left", PRIORITY_TIME_LEFT, elapsed, minutes_left=minutes)
    for number, reminder in enumerate(routine.reminders, start=1):
        source = routine.place("reminders", number - 1)
        text = wording.render_text(reminder.text, source, ctx)
        line = wording.render("reminder", {**ctx, "reminder": {"text": text, "number": number}})
        if line:
            cues.append(HoldCue("reminder", line, PRIORITY_REMINDER + number))
    return HoldCues(side=str(ctx["side"]), seconds=hold, cues=tuple(cues), exercise=exercise)
