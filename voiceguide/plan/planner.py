"""Plan a session: turn a cue sheet and the length of each clip into a timeline.

Pure and exact: every position is a whole number of samples, nothing overlaps,
and every hold lasts exactly as long as asked, from the onset of its start chime
to the onset of its end chime. Cues that cannot fit into a hold are dropped,
lowest priority first, and listed in the timeline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from voiceguide.errors import PlanError
from voiceguide.plan.timeline import Dropped, Event, Hold, Timeline
from voiceguide.text.cues import COUNTDOWN, CueSheet, HoldCue, HoldCues
from voiceguide.units import to_samples, to_seconds

START_CHIME, END_CHIME = "chime_start", "chime_end"


@dataclass(frozen=True)
class Pacing:
    """The quiet left around things, in seconds."""

    lead_in: float = 1.0  # before the first word
    before_chime: float = 1.5  # between the end of speech and a chime
    after_chime: float = 1.0  # between a chime ringing out and speech
    cue_gap: float = 3.0  # between two lines during a hold
    tail: float = 2.0  # after the last word


def plan(
    sheet: CueSheet,
    speech: Mapping[str, int],
    chimes: Mapping[str, int],
    pacing: Pacing = Pacing(),
    exact_length: Callable[[int], int] = lambda n: n,
) -> Timeline:
    """Lay out ``sheet``; ``speech`` maps each text, ``chimes`` each chime role, to its length.

    A chime the sheet turns off needs no length. ``exact_length`` may lengthen the
    closing silence to suit the output format.
    """
    sounding = {
        START_CHIME: sheet.start_chime != "off",
        END_CHIME: sheet.end_chime != "off",
    }
    for role in (START_CHIME, END_CHIME):
        if sounding[role] and chimes.get(role, 0) <= 0:
            raise PlanError(f"the {role.replace('_', ' ')} has no length")
    missing = [t for t in sheet.texts() if speech.get(t, 0) <= 0]
    if missing:
        raise PlanError(f"no speech clip for {missing[0]!r}")
    start_chime = chimes[START_CHIME] if sounding[START_CHIME] else 0
    end_chime = chimes[END_CHIME] if sounding[END_CHIME] else 0

    events: list[Event] = []
    holds: list[Hold] = []
    dropped: list[Dropped] = []
    pos = to_samples(pacing.lead_in)  # where the next sound may start
    quiet_from = 0  # where the last sound ended

    gain = sheet.chime_gain
    for section in sheet.sections:
        if isinstance(section, HoldCues):
            # Without a start chime, the hold begins as the line before it ends.
            before = to_samples(pacing.before_chime) if start_chime else 0
            start = max(pos, quiet_from + before)
            hold = Hold(section.side, start, start + to_samples(section.seconds), section.exercise)
            if start_chime + to_samples(pacing.before_chime) > hold.length:
                raise PlanError(
                    f"a hold of {section.seconds:g} seconds is shorter than its start chime; "
                    "use a longer --hold"
                )
            holds.append(hold)
            if start_chime:
                events.append(
                    Event(
                        "chime",
                        hold.start,
                        start_chime,
                        START_CHIME,
                        "start",
                        hold.side,
                        gain,
                        section.exercise,
                    )
                )
            placed, lost = _schedule_hold(section, hold, speech, start_chime, pacing)
            events += [replace(e, exercise=section.exercise) for e in placed]
            dropped += lost
            if end_chime:
                chime = Event("chime", hold.end, end_chime, END_CHIME, "end", hold.side, gain,
                              section.exercise)  # fmt: skip
                events.append(chime)
                quiet_from = hold.end + end_chime
                pos = quiet_from + to_samples(pacing.after_chime)
            else:  # the next line marks the end of the hold: it begins right there
                quiet_from = pos = hold.end
        else:
            for line in section:
                event = Event("speech", pos, speech[line.text], line.role, line.text, line.side,
                              exercise=line.exercise)  # fmt: skip
                events.append(event)
                quiet_from = event.end
                pos = event.end + to_samples(line.pause_after)
    end = exact_length(max(pos, quiet_from) + to_samples(pacing.tail))
    return Timeline(
        routine=sheet.routine,
        title=sheet.title,
        hold_seconds=sheet.hold_seconds,
        events=_with_pauses(events, end),
        holds=tuple(holds),
        dropped=tuple(dropped),
        notes=sheet.notes,
        start_chime=sheet.start_chime,
        end_chime=sheet.end_chime,
        exercises=sheet.exercises,
    )


def _schedule_hold(
    section: HoldCues,
    hold: Hold,
    speech: Mapping[str, int],
    start_chime: int,
    pacing: Pacing,
) -> tuple[list[Event], list[Dropped]]:
    """Place the cues of one hold, in priority order, between its chimes."""
    first = hold.start + start_chime + to_samples(pacing.after_chime)
    last = hold.end - to_samples(pacing.before_chime)  # speech must end by here
    gap = to_samples(pacing.cue_gap)
    countdown, lost = _countdown(section, hold, speech, first)
    taken: list[Event] = list(countdown)
    # Every other cue ends (with the cue gap) before the countdown begins.
    counting_from = min((e.start for e in countdown), default=None)
    if counting_from is not None:
        last = min(last, counting_from - gap)

    fixed = (c for c in section.cues if c.at is not None and c.role != COUNTDOWN)
    for cue in sorted(fixed, key=lambda c: c.priority):
        start = _cue_start(section, hold, cue)
        length = speech[cue.text]
        clash = next((e for e in taken if _collide(start, length, e, gap)), None)
        if start < first or start + length > hold.end - to_samples(pacing.before_chime):
            lost.append(_drop(section, cue, "too close to a chime"))
        elif start + length > last:
            lost.append(_drop(section, cue, "would run into the countdown"))
        elif clash is not None:
            lost.append(_drop(section, cue, f"would overlap '{clash.text}'"))
        else:
            taken.append(Event("speech", start, length, cue.role, cue.text, section.side, cue.gain))

    # Reminders keep their order, spread evenly over the hold. If they do not all
    # fit, the lowest-priority ones are left out until the rest do.
    # The last seconds belong to the final countdown, so reminders end before it.
    until = min([last] + [e.start - gap for e in taken if e.role == "final_seconds"])
    reminders = sorted((c for c in section.cues if c.at is None), key=lambda c: c.priority)
    for count in range(len(reminders), -1, -1):
        placed = _spread(reminders[:count], first, until, taken, gap, section.side, speech)
        if placed is not None:
            lost += [_drop(section, c, "no room left in the hold") for c in reminders[count:]]
            return sorted(taken + placed, key=lambda e: e.start), lost
    raise AssertionError("unreachable: zero reminders always fit")


def _cue_start(section: HoldCues, hold: Hold, cue: HoldCue) -> int:
    """Where a timed cue starts: ``cue.at`` seconds into the hold, or for a cue timed
    by the time left, that many seconds counted back from the end of the hold (the
    two differ by a sample where rounding to samples falls differently)."""
    at = cue.at or 0.0
    if cue.from_end:
        return hold.end - to_samples(section.seconds - at)
    return hold.start + to_samples(at)


def _countdown(
    section: HoldCues, hold: Hold, speech: Mapping[str, int], first: int
) -> tuple[list[Event], list[Dropped]]:
    """The countdown's numbers, each on its second counted back from the end of the hold.

    The numbers need no cue gap between them, and the last may end as the hold
    ends; but each has one second, and a longer clip is left out (as is a number
    that would come before the first cue may)."""
    placed: list[Event] = []
    lost: list[Dropped] = []
    second = to_samples(1.0)
    for cue in (c for c in section.cues if c.role == COUNTDOWN):
        # Counted from the end, so each number sits a whole number of seconds before it.
        start = _cue_start(section, hold, cue)
        length = speech[cue.text]
        if start < first:
            lost.append(_drop(section, cue, "too close to the start of the hold"))
        elif length > second:
            lost.append(
                _drop(section, cue, f"takes {to_seconds(length):.2f} s; each number has one second")
            )
        else:
            placed.append(
                Event("speech", start, length, cue.role, cue.text, section.side, cue.gain)
            )
    return placed, lost


def _spread(
    cues: list[HoldCue],
    first: int,
    last: int,
    taken: list[Event],
    gap: int,
    side: str,
    speech: Mapping[str, int],
) -> list[Event] | None:
    """Place ``cues`` in order, each at or after its evenly spaced target; None if one fails."""
    placed: list[Event] = []
    slot = (last - first) / max(len(cues), 1)
    earliest = first
    for i, cue in enumerate(cues):
        length = speech[cue.text]
        target = max(earliest, first + round(i * slot))
        start = _earliest_fit(target, length, last, taken + placed, gap)
        if start is None:
            return None
        placed.append(Event("speech", start, length, cue.role, cue.text, side, cue.gain))
        earliest = start + length + gap
    return placed


def _collide(start: int, length: int, other: Event, gap: int) -> bool:
    return start < other.end + gap and other.start < start + length + gap


def _earliest_fit(target: int, length: int, last: int, taken: list[Event], gap: int) -> int | None:
    """The earliest start at or after ``target`` with room for ``length`` before ``last``."""
    candidates = [target] + [e.end + gap for e in taken if e.end + gap > target]
    for start in sorted(candidates):
        if start + length > last:
            return None
        if not any(_collide(start, length, e, gap) for e in taken):
            return start
    return None


def _drop(section: HoldCues, cue: HoldCue, reason: str) -> Dropped:
    return Dropped(section.side, cue.role, cue.text, reason)


def _with_pauses(events: list[Event], end: int) -> tuple[Event, ...]:
    """The events in order, with every gap between them filled by a pause event."""
    out: list[Event] = []
    pos = 0
    for event in sorted(events, key=lambda e: e.start):
        if event.start < pos:
            raise PlanError(
                f"internal error: '{event.text or event.role}' overlaps the event before it"
            )
        if event.start > pos:
            quiet = Event("pause", pos, event.start - pos, "pause", side=event.side,
                          exercise=event.exercise)  # fmt: skip
            out.append(quiet)
        out.append(event)
        pos = event.end
    if end > pos:
        out.append(Event("pause", pos, end - pos, "pause"))
    return tuple(out)


__all__ = ["END_CHIME", "START_CHIME", "Pacing", "plan"]
