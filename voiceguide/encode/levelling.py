"""Levelling: one gain for the whole session, and a limiter where peaks need it.

The session is never normalised clip by clip: one gain brings the whole to the
target, and where that gain would push peaks above the ceiling, a look-ahead
limiter (:mod:`voiceguide.sound.limiter`) holds them down. Both are applied in
Python, island by island of sound (:mod:`voiceguide.sound.islands`), so ffmpeg
only encodes.

The loudness is found from the plan, with no pass over the session: each island
is K-weighted once (:mod:`voiceguide.encode.bs1770`), and its energy added into
the session's 100 ms steps at its place; silence, which the gate leaves out,
costs nothing. Since the limiter takes a little loudness off the peaks, the
loudness at each gain tried (a few at most) is estimated from how much of each
limited step's plain energy the limiter leaves (:meth:`VoiceLoudness.estimate`),
to find the gain that makes up for it. The finished file is measured with true peak,
and that is what is reported. (On the default MP3 path the file encoded is the
session with its long silences cut out, which measures exactly as the finished
file: see :mod:`voiceguide.encode.mp3.splice`.)

The target is loudness as heard. A session is mono and is heard on headphones, the
same signal in both ears; BS.1770 counts such a file as dual mono, 3 LU louder than
one channel measured alone, and the meter (:mod:`voiceguide.encode.meter`) applies
that correction. So a target of -16 LUFS gives a file that measures -19 LUFS as a
single channel: what podcast practice (Apple's guidance, AES TD1004) asks of mono
files, and as loud as the -16 LUFS stereo podcasts heard before and after it.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voiceguide.encode.export import Encoding, encode, verify_duration
from voiceguide.encode.m4a import encode_in_pieces
from voiceguide.encode.meter import Loudness, measure_file
from voiceguide.encode.mp3.split import Split, encode_short
from voiceguide.errors import ExportError
from voiceguide.plan.timeline import Timeline
from voiceguide.progress import Progress, no_progress
from voiceguide.sound.render import Layers, with_layers

if TYPE_CHECKING:  # numpy: imported when a session is levelled, not with the command line
    from voiceguide.encode.kept import Store
    from voiceguide.encode.plan_loudness import VoiceLoudness
    from voiceguide.sound.islands import Sounds

DEFAULT_TARGET = -16.0  # LUFS, integrated, as heard (dual mono): the level of spoken podcasts
AS_HEARD = "as heard on headphones (mono, measured as dual mono)"
MIN_TARGET, MAX_TARGET = -36.0, -9.0  # LUFS: the targets a session may ask for
TRUE_PEAK_LIMIT = -1.0  # dBTP: the most the finished file may reach
LIMITER_CEILING = -2.0  # dBFS, sample peak: leaves room for intersample and codec overshoot
MAX_LIMITING = 12.0  # dB: more than this on the loudest peaks would be audible
TOLERANCE = 0.5  # LU: re-encode once when the finished file is further than this from target
PCM_TOLERANCE = 0.2  # LU: close enough, measured on the PCM before encoding
PCM_PASSES = 4  # rounds of measuring the levelled PCM, at most
QUIET = -60.0  # LUFS: a session this quiet holds no speech worth levelling


@dataclass(frozen=True)
class Shortcut:
    """A shorter render of the session whose encoded file ``expand`` turns into the
    whole session's (see :mod:`voiceguide.encode.mp3.splice`).

    ``expand(short_file, path)`` writes the finished file into ``path`` and returns
    True, or returns False where it cannot; the whole session is then encoded. It
    runs no process.
    """

    timeline: Timeline  # the shorter session, whose islands are the session's
    expand: Callable[[Path, Path], bool]
    gaps: tuple[tuple[int, int], ...]  # the silence cut out: where, in the shorter one, how long
    split: Split | None = (
        None  # where two encoders share the encode (voiceguide/encode/mp3/split.py)
    )


@dataclass(frozen=True)
class Levelled:
    """How a session was levelled, and what its finished file measures."""

    target: float
    measured: Loudness  # the rendered PCM, before levelling (sample peak)
    gain: float  # dB
    final: Loudness  # the finished file (true peak)
    notes: tuple[str, ...] = field(default=())
    #: The gain was set on the voice alone (and its chimes): ``final`` is the whole
    #: session, layers and all, which the pacer or bed make measure differently.
    on_voice: bool = False


def _capped(gain: float, peak: float, notes: list[str], target: float) -> float:
    """``gain``, lowered if the loudest peaks would need more than MAX_LIMITING dB."""
    over = peak + gain - LIMITER_CEILING
    if over <= MAX_LIMITING:
        return gain
    notes.append(
        f"note: reaching {target:g} LUFS would take more than {MAX_LIMITING:g} dB of peak "
        "limiting, so the session is quieter than asked"
    )
    return gain - (over - MAX_LIMITING)


def find_gain(
    limited: Callable[[Sequence[float]], list[float]],
    raw: Loudness,
    target: float,
    most: float,
    per_round: int = 1,
) -> tuple[float, float]:
    """The gain (dB) that brings the levelled PCM to ``target``, and the slope of its
    loudness against the gain there.

    ``limited(gains)`` measures the PCM levelled (and limited) at each gain. Where
    the limiter works, it takes some loudness off the peaks, the more the louder:
    the secant method finds the gain that makes up for it, from the unlimited
    measurement (gain 0, ``raw``). The limiter only takes loudness away, so the
    first gain tried is too low, or right. With ``per_round`` 2 each round also
    measures a gain further on, by half what the peaks would pass the ceiling by,
    so that one round usually brackets the target; the gain is then interpolated
    (even where one of the two is within ``PCM_TOLERANCE``: the interpolation is
    nearer, and the codec's own shift comes on top of what is left).
    No gain past ``most`` is measured (the caller caps the gain it returns).
    """
    gain = min(most, target - raw.integrated)
    points = [(0.0, raw.integrated)]
    slope = 1.0
    for _ in range(PCM_PASSES):
        if raw.true_peak + gain <= LIMITER_CEILING:
            break  # nothing to limit: the gain is exact
        gains = [gain]
        if per_round > 1:
            reach = (
                (raw.true_peak + gain - LIMITER_CEILING) / 2 if len(points) == 1
                else gain - points[-1][0]
            )  # fmt: skip
            further = min(most, gain + max(PCM_TOLERANCE, abs(reach)))
            gains += [further] if further > gain else []
        points += zip(gains, limited(gains), strict=True)
        (g0, f0), (g1, f1) = points[-2:]
        if g1 != g0:
            slope = min(1.0, max(0.2, (f1 - f0) / (g1 - g0)))
        below = [p for p in points if p[1] < target]
        above = [p for p in points if p[1] > target]
        if below and above:  # bracketed: interpolate between the nearest either side
            (gb, fb), (ga, fa) = max(below, key=lambda p: p[1]), min(above, key=lambda p: p[1])
            return gb + (target - fb) / (fa - fb) * (ga - gb), slope
        best = min(points[1:], key=lambda p: abs(p[1] - target))
        if abs(best[1] - target) <= PCM_TOLERANCE:
            return best[0], slope
        gain = g1 + (target - f1) / slope
        if abs(f1 - target) <= TOLERANCE or gain >= most:
            break  # a small last step, or the cap: the finished file is measured anyway
    return gain, slope


@dataclass(frozen=True)
class Level:
    """The gain that levels a session, found before it is encoded."""

    raw: Loudness  # the voice before levelling (sample peak)
    gain: float  # dB
    slope: float  # of the levelled loudness against the gain, there (1: no limiting)
    notes: tuple[str, ...] = ()


def find_level(loudness: VoiceLoudness, target: float = DEFAULT_TARGET) -> Level:
    """The gain that, with the limiter, brings the session to ``target`` LUFS (see
    :func:`find_gain`)."""
    notes: list[str] = []
    raw = loudness.raw()
    if not math.isfinite(raw.integrated) or raw.integrated < QUIET:
        raise ExportError(f"the session measures {raw.integrated:.1f} LUFS: it is silent")
    gain = _capped(target - raw.integrated, raw.true_peak, notes, target)
    slope = 1.0
    if raw.true_peak + gain > LIMITER_CEILING and not notes:
        most = LIMITER_CEILING + MAX_LIMITING - raw.true_peak

        def limited(gains: Sequence[float]) -> list[float]:
            return loudness.estimate(gains, LIMITER_CEILING)

        gain, slope = find_gain(limited, raw, target, most, per_round=2)
        gain = _capped(gain, raw.true_peak, notes, target)
    return Level(raw, gain, slope, tuple(notes))


LEVEL = 2  # bump when the gain search finds otherwise (gains kept by earlier builds go unused)


def kept_level(
    loudness: VoiceLoudness,
    target: float,
    store: Store | None,
    find: Callable[[VoiceLoudness, float], Level] = find_level,
) -> Level:
    """``find(loudness, target)``, or what it found for the same islands, at the same
    places, with the same target and settings, in an earlier build (kept in ``store``:
    see voiceguide/encode/kept.py)."""
    if store is None:
        return find(loudness, target)
    import numpy as np

    from voiceguide.encode.bs1770 import TAPS
    from voiceguide.encode.kept import kept_json, placed
    from voiceguide.encode.plan_loudness import FIGURES
    from voiceguide.sound.islands import RENDER
    from voiceguide.speech.cache import cache_key

    key = cache_key(
        [LEVEL, RENDER, FIGURES, TAPS, np.__version__, LIMITER_CEILING, MAX_LIMITING,
         PCM_TOLERANCE, PCM_PASSES, QUIET, target, loudness.length,
         placed(loudness.sounds, loudness.islands)]
    )  # fmt: skip
    return kept_json(store, key, lambda: find(loudness, target), _level_json, _level_read)


def _level_json(level: Level) -> dict[str, Any]:
    raw = level.raw
    return {
        "raw": [raw.integrated, raw.true_peak, raw.loudness_range],
        "gain": level.gain,
        "slope": level.slope,
        "notes": list(level.notes),
    }


def _level_read(found: dict[str, Any]) -> Level:
    """What :func:`_level_json` wrote; a KeyError, TypeError or ValueError if it is not."""
    notes = found["notes"]
    if not isinstance(notes, list):
        raise TypeError(notes)
    return Level(
        Loudness(*(float(x) for x in found["raw"])),
        float(found["gain"]),
        float(found["slope"]),
        tuple(str(note) for note in notes),
    )


@dataclass(frozen=True)
class Voice:
    """What is levelled: a timeline's sounds, with ``layers`` (if any) mixed under them."""

    timeline: Timeline
    sounds: Sounds
    layers: Layers | None = None
    #: Where the islands' first-pass loudness figures, the gain and the encoded short file
    #: are kept between builds (voiceguide/encode/kept.py), if anywhere.
    store: Store | None = None

    def render(self, gain: float, ceiling: float) -> Iterator[bytes]:
        pcm = self.sounds.render(self.timeline, gain, ceiling)
        if self.layers is None:
            return pcm
        return with_layers(pcm, self.layers.levelled(gain, ceiling))


def level_and_encode(
    voice: Voice,
    path: Path,
    encoding: Encoding,
    target: float = DEFAULT_TARGET,
    progress: Progress = no_progress,
    shortcut: Shortcut | None = None,
    jobs: int = 1,
    cut: int | None = None,
) -> Levelled:
    """Level the session to ``target`` LUFS, encode it into ``path``, measure the
    finished file; re-encode once if the codec moved it off target.

    ``shortcut`` may give a shorter session to encode and measure instead of the
    whole, and the way to expand its file. With a store (``voice.store``), the gain
    and the short file a build of the same session kept are used, and what this
    build finds is kept (voiceguide/encode/kept.py); the finished file is measured
    all the same.

    With layers (``voice.layers``), the gain brings the voice to ``target``, and the
    finished file's loudness is reported but not steered (the layers fill the quiet
    between the words, so the whole measures otherwise). Its true peak still is.

    ``jobs``: how many processes may run at once (see :func:`encode_short`).

    ``cut``: where an M4A is cut in two for two encoders (voiceguide/encode/m4a.py);
    with ``jobs`` 2 or more they run side by side. Not with layers, which sound
    through the silences.
    """
    from voiceguide.encode.kept import encode_kept, encoded_key, joined_kept
    from voiceguide.encode.plan_loudness import VoiceLoudness

    on_voice = voice.layers is not None
    total_samples = voice.timeline.length
    store = voice.store
    loudness = VoiceLoudness(voice.sounds, voice.timeline, progress, jobs, store)
    level = kept_level(loudness, target, store)
    raw, gain, slope, notes = level.raw, level.gain, level.slope, list(level.notes)
    ceiling = LIMITER_CEILING
    with tempfile.TemporaryDirectory(prefix="voiceguide-") as folder:
        short = Path(folder) / "short.mp3"

        def encode_whole() -> Loudness:
            if cut is None or on_voice:
                encode(voice.render(gain, ceiling), total_samples, path, encoding, progress)
            else:

                def span(start: int, end: int) -> Iterator[bytes]:
                    return voice.sounds.render(voice.timeline, gain, ceiling, start, end)

                keep = None
                if store is not None:
                    keep = joined_kept(store, voice, gain, ceiling, encoding, cut, progress)
                at_once = jobs >= 2
                encode_in_pieces(span, total_samples, path, encoding, progress, cut, at_once, keep)
            return measure_file(path, ours=True, ahead=jobs >= 2)

        def expand(shortcut: Shortcut) -> bool:
            """Expand the short file into ``path`` (whether it could be), and check the
            duration players will read."""
            expanded = shortcut.expand(short, path)
            if expanded:
                verify_duration(path, total_samples)
            return expanded

        def encode_levelled() -> tuple[Loudness, bool | None]:
            """Encode, and measure what was encoded; and, with a shortcut and a core
            to spare, expand the short file meanwhile, and check the finished file's
            duration (whether it could be expanded)."""
            if shortcut is None:
                return encode_whole(), None
            samples = shortcut.timeline.length

            def scaled(stage: str, done: int, _: int) -> None:  # in samples of the session
                progress(stage, done * total_samples // samples, total_samples)

            def render(start: int, end: int) -> Iterator[bytes]:
                return voice.sounds.render(shortcut.timeline, gain, ceiling, start, end)

            def encode_it() -> None:
                encode_short(render, samples, short, encoding, scaled, shortcut.split)

            if store is None:
                encode_it()
            else:
                key = encoded_key(voice.sounds, shortcut.timeline, gain, ceiling, encoding)
                encode_kept(store, key, samples, short, encode_it, scaled)
            # The short file measures exactly as the finished file: see splice.py.
            if jobs < 2:
                return measure_file(short, shortcut.gaps, ours=True), None
            # Expanded meanwhile, by Python alone, and its duration checked by ffprobe.
            # Not with one process: on one core they would take turns, and holding the
            # short file while it is measured raises the memory peak (docs/performance.md).
            with ThreadPoolExecutor(1) as pool:
                measuring = pool.submit(measure_file, short, shortcut.gaps, ours=True, ahead=True)
                # A re-encode expands and checks again (it is rare; the check takes 0.06 s).
                expanded = expand(shortcut)
                return measuring.result(), expanded

        final, expanded = encode_levelled()
        off_target = abs(final.integrated - target) > TOLERANCE and not notes and not on_voice
        if off_target or final.true_peak > TRUE_PEAK_LIMIT:
            # A lossy codec shifts the loudness a little and can overshoot the peaks.
            if off_target:
                gain = _capped(
                    gain + (target - final.integrated) / slope, raw.true_peak, notes, target
                )
            if final.true_peak > TRUE_PEAK_LIMIT:
                ceiling -= final.true_peak - TRUE_PEAK_LIMIT + 0.3
            final, expanded = encode_levelled()
        if expanded is None and shortcut is not None:
            expanded = expand(shortcut)
        if expanded is False:
            final = encode_whole()
    if final.true_peak > TRUE_PEAK_LIMIT:
        notes.append(
            f"note: the true peak is {final.true_peak:.1f} dBTP, above {TRUE_PEAK_LIMIT:g} dBTP"
        )
    if abs(final.integrated - target) > 1.0 and not on_voice:
        notes.append(
            f"note: the session measures {final.integrated:.1f} LUFS, "
            f"more than 1 LU from the {target:g} LUFS target"
        )
    return Levelled(target, raw, gain, final, tuple(dict.fromkeys(notes)), on_voice)
