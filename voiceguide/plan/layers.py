"""Plan the layers under the voice during each hold: pacer tones and a background bed.

Pure and exact, like the planner: from a timeline and the session's extras it
gives the sample span of every pacer tone, the span of each hold's bed, and the
bed's gain envelopes (its fades, and its ducking under speech) as breakpoints.
No audio is made here; see :mod:`voiceguide.sound.sounds` and :mod:`voiceguide.sound.mix`.

Within a hold (from the onset of its start chime to the onset of its end chime):

- the layers begin when the start chime has rung out (at the end of its clip);
- pacer tones cue each inhale and each exhale, a breath every
  ``60 / breaths_per_minute`` seconds, half of it in, half out; the last tone
  ends at least :data:`END_GAP` before the end chime;
- the bed fades in over :data:`BED_FADE` from the start, and out over
  :data:`BED_FADE` to silence :data:`END_GAP` before the end chime;
- the bed ducks by ``duck`` dB under every spoken line: down over
  :data:`DUCK_RAMP`, reaching the ducked level :data:`DUCK_LEAD` before the line
  starts, and back up over :data:`DUCK_RAMP` from :data:`DUCK_HANG` after it
  ends. Lines closer than :data:`DUCK_MERGE` share one dip, so the bed never pumps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from voiceguide.plan.timeline import Event, Hold, Timeline
from voiceguide.text.extras import Extras
from voiceguide.units import SAMPLE_RATE, to_samples

ToneKind = Literal["inhale", "exhale"]
#: A piecewise-linear gain: (sample, gain) breakpoints in order; linear between
#: them, and the first (last) gain before (after) them.
Envelope = tuple[tuple[int, float], ...]

TONE_SECONDS = 1.5  # a pacer tone, at most...
TONE_SHARE = 0.4  # ...and at most this share of a breath's half
END_GAP = to_samples(0.5)  # layers are silent this long before the end chime
BED_FADE = to_samples(3.0)
DUCK_RAMP = to_samples(0.05)
DUCK_LEAD = to_samples(0.1)
DUCK_HANG = to_samples(0.1)
DUCK_MERGE = to_samples(0.5)


@dataclass(frozen=True)
class Tone:
    """A pacer tone: ``inhale`` (rising) or ``exhale`` (falling), from ``start``."""

    kind: ToneKind
    start: int
    length: int

    @property
    def end(self) -> int:
        return self.start + self.length


@dataclass(frozen=True)
class Bed:
    """The background bed of one hold: it sounds from ``start`` to ``end``, scaled by
    ``fade`` (0 to 1) times ``duck`` (1, or the ducked gain under speech)."""

    start: int
    end: int
    fade: Envelope
    duck: Envelope

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class LayerPlan:
    tones: tuple[Tone, ...] = ()
    beds: tuple[Bed, ...] = ()
    spans: tuple[tuple[int, int], ...] = ()  # the holds (start, end) where a layer sounds

    def __bool__(self) -> bool:
        return bool(self.tones or self.beds)


def tone_length(breaths_per_minute: float) -> int:
    """The length of each pacer tone at this rate, in samples."""
    half = 30 * SAMPLE_RATE / breaths_per_minute
    return min(to_samples(TONE_SECONDS), round(TONE_SHARE * half))


def plan_layers(timeline: Timeline, extras: Extras) -> LayerPlan:
    """Every layer of every hold of ``timeline``, at exact sample positions."""
    if extras.pacer is None and extras.background is None:
        return LayerPlan()
    tones: list[Tone] = []
    beds: list[Bed] = []
    spans: list[tuple[int, int]] = []
    for hold in timeline.holds:
        first, last = _layer_span(timeline, hold)
        if last <= first:
            continue
        placed: list[Tone] = []
        if extras.pacer is not None:
            placed = pacer_tones(first, last, extras.pacer.breaths_per_minute)
            tones += placed
        if extras.background is not None:
            speech = [e for e in timeline.spoken() if e.end > first and e.start < last]
            beds.append(plan_bed(first, last, speech, extras.background.duck))
        if placed or extras.background is not None:
            spans.append((hold.start, hold.end))
    return LayerPlan(tuple(tones), tuple(beds), tuple(spans))


def _layer_span(timeline: Timeline, hold: Hold) -> tuple[int, int]:
    """Where a hold's layers may sound: from the end of its start chime (if it has
    one) to :data:`END_GAP` before its end."""
    chime = next((e for e in timeline.events if e.kind == "chime" and e.start == hold.start), None)
    first = min(chime.end, hold.end) if chime is not None else hold.start
    return first, hold.end - END_GAP


def pacer_tones(first: int, last: int, breaths_per_minute: float) -> list[Tone]:
    """Inhale and exhale tones from ``first``, each wholly before ``last``."""
    breath = 60 * SAMPLE_RATE / breaths_per_minute  # samples, not rounded: no drift
    length = tone_length(breaths_per_minute)
    tones: list[Tone] = []
    for step in range(int((last - first) / (breath / 2)) + 1):
        start = first + round(step * breath / 2)
        if start + length > last:
            break
        tones.append(Tone("inhale" if step % 2 == 0 else "exhale", start, length))
    return tones


def plan_bed(first: int, last: int, speech: Sequence[Event], duck: float) -> Bed:
    """A bed from ``first`` to ``last``, faded at both ends, ducked ``duck`` dB under
    each of the ``speech`` events."""
    fade = min(BED_FADE, (last - first) // 2)
    fades: Envelope = ((first, 0.0), (first + fade, 1.0), (last - fade, 1.0), (last, 0.0))
    return Bed(first, last, fades, duck_envelope(speech, duck))


def duck_envelope(speech: Sequence[Event], duck: float) -> Envelope:
    """The ducking gain: 1, dipping to ``10 ** (-duck / 20)`` around each of ``speech``."""
    low = 10 ** (-duck / 20)
    dips: list[list[int]] = []
    for event in sorted(speech, key=lambda e: e.start):
        start, end = event.start - DUCK_LEAD, event.end + DUCK_HANG
        if dips and start - dips[-1][1] < DUCK_MERGE:
            dips[-1][1] = max(dips[-1][1], end)
        else:
            dips.append([start, end])
    points: list[tuple[int, float]] = []
    for start, end in dips:
        points += [(start - DUCK_RAMP, 1.0), (start, low), (end, low), (end + DUCK_RAMP, 1.0)]
    return tuple(points) or ((0, 1.0),)


def layer_lines(timeline: Timeline, extras: Extras) -> list[str]:
    """The layers under the voice, a line each, for the script; none if they are off."""
    plan = plan_layers(timeline, extras)
    lines = []
    if extras.pacer is not None:
        pacer = extras.pacer
        lines.append(
            f"breath pacer: {pacer.breaths_per_minute:g} breaths a minute (a rising tone "
            f"to breathe in, a falling one to breathe out), {len(plan.tones)} tones in all, "
            f"at {pacer.volume:+g} dB from the voice"
        )
    if extras.background is not None:
        bed = extras.background
        source = "soft noise" if bed.source is None else str(bed.source)
        lines.append(
            f"background: {source}, looped and faded, at {bed.volume:+g} dB from the voice, "
            f"{bed.duck:g} dB lower while someone speaks"
        )
    return lines
