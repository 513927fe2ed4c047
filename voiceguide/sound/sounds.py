"""The sounds of the layers: pacer tones, the noise bed, a user's bed file; and levels.

All made here, deterministically, at the session rate: nothing is downloaded and
nothing random is left to chance (the noise is seeded), so the same inputs give
the same session to the byte. Sounds are float arrays scaled to an active level
of 1 (see :func:`active_level`), so that a layer's volume is simply a gain.
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from voiceguide.encode.export import find_tool
from voiceguide.errors import AudioError
from voiceguide.plan.layers import ToneKind
from voiceguide.sound.audio import FLOAT_WAV, mono_float_wav
from voiceguide.sound.resample import resample
from voiceguide.units import FULL_SCALE, SAMPLE_RATE, to_samples

Samples = npt.NDArray[np.floating[Any]]

# --- levels -------------------------------------------------------------------------------

LEVEL_BLOCK = to_samples(0.02)  # 20 ms
LEVEL_MARGIN = 15.9  # dB: blocks this far below the mean power do not count (ITU-T P.56)


def active_level(clips: Iterable[Samples]) -> float:
    """The active level (RMS, of full scale 1) of ``clips`` together: the power mean of
    their 20 ms blocks, leaving out the blocks more than 15.9 dB below the mean of all
    (pauses between words, quiet edges), in the spirit of ITU-T P.56."""
    powers = [
        np.mean(clip[: len(clip) // LEVEL_BLOCK * LEVEL_BLOCK].reshape(-1, LEVEL_BLOCK) ** 2, 1)
        for clip in clips
        if len(clip) >= LEVEL_BLOCK
    ]
    if not powers:
        return 0.0
    blocks = np.concatenate(powers)
    mean = float(np.mean(blocks))
    active = blocks[blocks >= mean * 10 ** (-LEVEL_MARGIN / 10)]
    return math.sqrt(float(np.mean(active))) if mean > 0 else 0.0


def normalised(sound: Samples) -> Samples:
    level = active_level([sound])
    if level <= 0:
        raise AudioError("internal error: a layer sound is silent")
    return sound / level


def from_pcm(data: bytes) -> Samples:
    """Signed 16-bit PCM as floats of full scale 1."""
    return np.frombuffer(data, dtype="<i2").astype(np.float64) / FULL_SCALE


# --- pacer tones --------------------------------------------------------------------------

LOW_HZ, HIGH_HZ = 196.0, 293.66  # G3 and D4: a fifth, well under the voice and the chimes
TONE_ATTACK = 0.12  # seconds, raised cosine
TONE_RELEASE = 0.6  # seconds, raised cosine down to exact zero
TONE_HARMONIC = 0.15  # a touch of the octave, so the tone carries on small earphones


@lru_cache(maxsize=4)
def pacer_tone(kind: ToneKind, length: int) -> Samples:
    """A soft tone of ``length`` samples gliding up a fifth (inhale) or down (exhale),
    starting and ending at exactly zero, with an active level of 1."""
    n = np.arange(length, dtype=np.float64)
    progress = n / max(length - 1, 1)
    glide = 0.5 - 0.5 * np.cos(np.pi * progress)  # eases in and out of the glide
    low, high = (LOW_HZ, HIGH_HZ) if kind == "inhale" else (HIGH_HZ, LOW_HZ)
    frequency = low * (high / low) ** glide
    phase = 2 * np.pi * np.cumsum(frequency) / SAMPLE_RATE
    wave = np.sin(phase) + TONE_HARMONIC * np.sin(2 * phase)
    attack = min(to_samples(TONE_ATTACK), length // 3)
    release = min(to_samples(TONE_RELEASE), length // 2)
    envelope = np.ones(length)
    envelope[:attack] = 0.5 - 0.5 * np.cos(np.pi * np.arange(attack) / attack)
    envelope[length - release :] = 0.5 + 0.5 * np.cos(np.pi * np.arange(1, release + 1) / release)
    return normalised(wave * envelope)


# --- the generated noise bed --------------------------------------------------------------

NOISE_SECONDS = 20  # the loop; soft pink noise has no pattern to hear repeating
NOISE_SEED = 20261125
NOISE_LOW_HZ = 60.0  # rolled off below (a gentle high-pass)...
NOISE_HIGH_HZ = 1200.0  # ...and above (a gentle low-pass): a soft, distant rush


@lru_cache(maxsize=1)
def noise_bed() -> Samples:
    """Soft pink noise, :data:`NOISE_SECONDS` long, that loops without a seam.

    It is made in the frequency domain: a 1/f power spectrum with seeded random
    phases, shaped by gentle first-order roll-offs, then one inverse FFT. A
    signal made of whole cycles over the loop is periodic, so its end runs
    straight into its start. The phases come from numpy's legacy ``RandomState``,
    whose stream for a seed is frozen across numpy versions. Made in 32-bit floats,
    step by step, so that memory stays small (the loop itself is 3.5 MB). Shared by
    every session, so read-only.
    """
    length = NOISE_SECONDS * SAMPLE_RATE
    bins = length // 2 + 1
    f = np.arange(bins, dtype=np.float32)
    f *= np.float32(SAMPLE_RATE / length)
    f[0] = 1.0
    shape = 1 / np.sqrt(f)  # pink: power falls 3 dB an octave
    shape *= (f / NOISE_LOW_HZ) / np.sqrt(1 + (f / NOISE_LOW_HZ) ** 2)  # gentle high-pass
    shape /= np.sqrt(1 + (f / NOISE_HIGH_HZ) ** 2)  # gentle low-pass
    shape[f > 16000] = 0.0  # nothing the codecs would throw away
    shape[0] = 0.0  # no DC
    del f
    phases = np.random.RandomState(NOISE_SEED).random_sample(bins).astype(np.float32)
    phases *= np.float32(2 * np.pi)
    spectrum = np.empty(bins, dtype=np.complex64)
    np.cos(phases, out=spectrum.real)
    np.sin(phases, out=spectrum.imag)
    del phases
    spectrum *= shape
    del shape
    spectrum[-1] = abs(spectrum[-1])  # the Nyquist bin of a real signal is real
    loop = np.fft.irfft(spectrum, length)  # 32-bit in, 32-bit out (numpy 2)
    del spectrum
    loop /= loop.dtype.type(active_level([loop]))
    loop.flags.writeable = False
    return loop


# --- a user's bed file --------------------------------------------------------------------

FILE_SECONDS = 60  # at most this much of a bed file is used (and looped): memory stays small
LOOP_CROSSFADE = 0.5  # seconds, equal power, where the loop joins itself
MIN_FILE_SECONDS = 2.0


def file_bed(path: Path) -> Samples:
    """The first :data:`FILE_SECONDS` of an audio file, mono, at the session rate (brought
    there by the band-limited resampler), as a loop: its tail crossfaded into its head, so
    that it repeats without a click.

    Decoded once, and shared (read-only) by the sessions that use the same file."""
    try:
        stat = path.stat()
    except OSError as e:
        raise AudioError(f"cannot read the background {path}: {e.strerror}") from None
    return _file_bed(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _file_bed(path: Path, mtime_ns: int, size: int) -> Samples:
    try:
        result = subprocess.run(
            [find_tool("ffmpeg"), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path),
             "-map", "0:a:0", "-t", str(FILE_SECONDS), *FLOAT_WAV],
            capture_output=True, check=False,
        )  # fmt: skip
    except OSError as e:
        raise AudioError(f"cannot decode the background {path}: {e.strerror}") from None
    if result.returncode != 0:
        lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = lines[-1].removeprefix(f"{path}: ") if lines else "ffmpeg failed"
        raise AudioError(f"cannot decode the background {path}: {reason}")
    decoded = mono_float_wav(result.stdout)
    del result
    if decoded is None:
        raise AudioError(f"cannot decode the background {path}: ffmpeg gave no audio")
    sound = resample(*decoded)  # band-limited, from the file's own rate (32-bit floats)
    del decoded
    sound -= sound.mean(dtype=np.float64)  # no DC offset (see audio.without_dc)
    if len(sound) < to_samples(MIN_FILE_SECONDS):
        raise AudioError(
            f"the background {path} lasts {len(sound) / SAMPLE_RATE:.2f} s; "
            f"a bed needs at least {MIN_FILE_SECONDS:g} s to loop"
        )
    if active_level([sound]) < 10 ** (-70 / 20):
        raise AudioError(f"the background {path} is silent")
    loop = looped(sound, to_samples(LOOP_CROSSFADE))
    del sound
    loop /= np.float32(active_level([loop]))
    loop.flags.writeable = False
    return loop


def looped(sound: Samples, crossfade: int) -> Samples:
    """``sound`` made to loop: ``crossfade`` samples shorter, its last ``crossfade``
    samples faded out over its first ones faded in (equal power). Played end to
    start, the loop runs from its tail straight into its head.

    Made in place, in ``sound``'s memory: the loop is a view of it."""
    crossfade = min(crossfade, len(sound) // 4)
    out = sound[: len(sound) - crossfade]
    if crossfade == 0:
        return out
    x = (np.arange(crossfade) + 0.5) / crossfade
    head, tail = out[:crossfade], sound[len(sound) - crossfade :]
    head *= np.sin(0.5 * np.pi * x).astype(sound.dtype)
    head += tail * np.cos(0.5 * np.pi * x).astype(sound.dtype)
    return out
