"""Mix the layers (pacer tones, background bed) under the voice, block by block.

The renderer streams the voice track; a :class:`Mixer` adds to each block the
layers that sound in it, at their own volumes, to the sample. Nothing is held
but the layer sounds themselves (a few seconds of tone, a loop of the bed).

**Volume relative to the voice.** A layer at ``volume`` dB has an active level
(see :func:`voiceguide.sound.sounds.active_level`: the RMS of its 20 ms blocks that are
not much quieter than the rest) ``volume`` dB from the active level of the
session's speech clips, measured once per session on the clips themselves. The
pacer's level is that of one tone while it sounds; the bed's, that of the bed
before fades and ducking. The session is levelled as a whole afterwards, so the
balance is what the listener hears.

**Levelling.** The voice is levelled before the layers are added (one gain, and a
limiter on its peaks: :mod:`voiceguide.encode.levelling`), and the layers take the
same gain (:meth:`Mixer.levelled`), so the balance stays as set.

**Clipping.** The sum is scaled by a fixed headroom (1 unless the loudest voice
peak plus the loudest layer peaks could pass full scale), so it never clips; it is
rounded to 16 bits and, as a last guard, saturated.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pydub import AudioSegment

from voiceguide.plan.layers import LayerPlan, ToneKind, tone_length
from voiceguide.plan.timeline import Timeline
from voiceguide.sound.sounds import Samples, active_level, file_bed, from_pcm, noise_bed, pacer_tone
from voiceguide.text.extras import Extras
from voiceguide.units import FULL_SCALE, SAMPLE_RATE, SAMPLE_WIDTH

MIX_BLOCK = SAMPLE_RATE  # samples mixed at once: a second, so memory stays small
NOMINAL_VOICE = 0.1  # -20 dBFS: the voice level assumed if a session had no speech at all


@dataclass(frozen=True)
class LayerSounds:
    """A session's layer sounds, scaled to their volumes, ready to mix.

    ``tones`` are floats of full scale 1 with their gain applied; ``bed`` is the
    bed's loop at an active level of 1 (shared between sessions), ``bed_gain`` its
    gain; ``voice_peak`` and ``layer_peak`` are the loudest the voice track and the
    layers together can be (full scale 1), before levelling."""

    voice_level: float
    tones: Mapping[ToneKind, Samples]
    bed: Samples | None
    bed_gain: float
    voice_peak: float
    layer_peak: float

    @property
    def headroom(self) -> float:
        """What scales the mix, before levelling, so that it cannot clip."""
        return _headroom(self.voice_peak + self.layer_peak)


def _headroom(peak: float) -> float:
    return min(1.0, (FULL_SCALE - 1) / FULL_SCALE / peak) if peak > 0 else 1.0


def db(gain: float) -> float:
    return float(10 ** (gain / 20))


def layer_sounds(
    extras: Extras,
    timeline: Timeline,
    speech: Mapping[str, AudioSegment],
    chimes: Mapping[str, AudioSegment],
) -> LayerSounds | None:
    """The sounds of ``extras``'s layers, at their volumes relative to ``speech``;
    None when no layer is on. A bed file is decoded here, once."""
    if extras.pacer is None and extras.background is None:
        return None
    voice = active_level(from_pcm(clip.raw_data) for clip in speech.values())
    voice = voice or NOMINAL_VOICE
    tones: dict[ToneKind, Samples] = {}
    if extras.pacer is not None:
        length = tone_length(extras.pacer.breaths_per_minute)
        gain = voice * db(extras.pacer.volume)
        tones = {kind: pacer_tone(kind, length) * gain for kind in ("inhale", "exhale")}
    bed, bed_gain = None, 0.0
    if extras.background is not None:
        source = extras.background.source
        bed = noise_bed() if source is None else file_bed(source)
        bed_gain = voice * db(extras.background.volume)
    layer_peak = max((float(np.max(np.abs(t))) for t in tones.values()), default=0.0)
    if bed is not None:
        layer_peak += float(np.max(np.abs(bed))) * bed_gain
    voice_peak = _voice_peak(timeline, speech, chimes)
    return LayerSounds(voice, tones, bed, bed_gain, voice_peak, layer_peak)


def _voice_peak(
    timeline: Timeline, speech: Mapping[str, AudioSegment], chimes: Mapping[str, AudioSegment]
) -> float:
    """The loudest sample of the voice track (speech and chimes, with their gains)."""
    peaks: dict[tuple[str, str, float], float] = {}
    for event in timeline.events:
        if event.kind == "pause":
            continue
        key = (event.kind, event.text or event.role, event.gain)
        if key not in peaks:
            clip = speech[event.text] if event.kind == "speech" else chimes[event.role]
            peaks[key] = clip.max / FULL_SCALE * db(event.gain)
    return min(1.0, max(peaks.values(), default=0.0))


class Mixer:
    """Adds a plan's layers to blocks of the voice track (see :func:`.render.render`)."""

    def __init__(self, plan: LayerPlan, sounds: LayerSounds, gain: float = 1.0) -> None:
        self.plan = plan
        self.tones = plan.tones
        self.tone_ends = [t.end for t in plan.tones]
        self.beds = plan.beds if sounds.bed is not None else ()
        self.sounds = sounds
        self.gain = gain  # linear, on the layers: the voice's levelling gain
        self.scale = sounds.headroom

    def levelled(self, gain: float, ceiling: float) -> Mixer:
        """The mixer for the voice levelled at ``gain`` dB, its peaks limited to
        ``ceiling`` dBFS: the layers take the same gain."""
        mixer = Mixer(self.plan, self.sounds, db(gain))
        voice_peak = min(self.sounds.voice_peak * db(gain), db(ceiling))
        mixer.scale = _headroom(voice_peak + self.sounds.layer_peak * db(gain))
        return mixer

    def layers(self, start: int, length: int) -> Samples | None:
        """The layers summed over samples ``start`` to ``start + length``; None if silent."""
        end = start + length
        out: Samples | None = None
        index = bisect.bisect_right(self.tone_ends, start)
        for tone in self.tones[index:]:
            if tone.start >= end:
                break
            out = out if out is not None else np.zeros(length)
            a, b = max(start, tone.start), min(end, tone.end)
            sound = self.sounds.tones[tone.kind]
            out[a - start : b - start] += sound[a - tone.start : b - tone.start]
        for bed in self.beds:
            if bed.end <= start or bed.start >= end:
                continue
            assert self.sounds.bed is not None
            out = out if out is not None else np.zeros(length)
            a, b = max(start, bed.start), min(end, bed.end)
            at = np.arange(a, b)
            gain = _envelope(bed.fade, at) * _envelope(bed.duck, at)
            gain *= self.sounds.bed_gain
            loop = self.sounds.bed.take(at - bed.start, mode="wrap")
            out[a - start : b - start] += loop * gain
        return out

    def mix(self, block: bytes, start: int) -> bytes:
        """``block`` of the voice track (16-bit PCM from sample ``start``) with the layers."""
        if len(block) > MIX_BLOCK * SAMPLE_WIDTH:  # a long clip: a second at a time
            step = MIX_BLOCK * SAMPLE_WIDTH
            return b"".join(
                self._mix(block[at : at + step], start + at // SAMPLE_WIDTH)
                for at in range(0, len(block), step)
            )
        return self._mix(block, start)

    def _mix(self, block: bytes, start: int) -> bytes:
        length = len(block) // SAMPLE_WIDTH
        layers = self.layers(start, length)
        if layers is None and self.scale == 1.0:
            return block
        voice = np.frombuffer(block, dtype="<i2").astype(np.float64)
        mixed = voice if layers is None else voice + layers * (FULL_SCALE * self.gain)
        if self.scale != 1.0:
            mixed = mixed * self.scale
        return bytes(np.clip(np.rint(mixed), -FULL_SCALE, FULL_SCALE - 1).astype("<i2").tobytes())


def _envelope(points: Iterable[tuple[int, float]], at: npt.NDArray[np.int64]) -> Samples:
    """A piecewise-linear envelope (see :data:`voiceguide.plan.layers.Envelope`) at ``at``."""
    xs, ys = zip(*points, strict=True)
    values: Samples = np.interp(at, xs, ys)
    return values
