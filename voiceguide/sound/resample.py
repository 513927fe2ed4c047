"""Band-limited resampling: how every sound at another rate enters the session.

Speech engines speak at their own rates (espeak-ng and Piper's medium voices at
22,050 Hz), and a user's chime or background may be at any rate. Each is brought
to :data:`~voiceguide.units.SAMPLE_RATE` here, once, by libsoxr (the ``soxr``
package) at its very-high quality: a linear-phase filter whose stop band begins
at the lower of the two Nyquist frequencies and reaches some 190 dB down, so that
nothing of the source is mirrored above its Nyquist frequency (up-sampling) or
folded below the session's (down-sampling). An interpolator without that filter
(pydub's ``set_frame_rate``, which is ``audioop.ratecv``) mirrors the speech band
above 11,025 Hz: a sizzle on headphones, 28 dB under the voice.

The length of the result is ours, not the library's: ``length * to_rate / rate``
rounded half up, in integers (:func:`resampled_length`), so a clip's length in
samples is a pure function of its source length and the two rates, on every
machine. The filter is linear-phase and its delay is taken out, so the result is
aligned with its source, and a source that starts and ends in silence gives a
result that does too: nothing here adds a click at the edges.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, TypeAlias

from voiceguide.errors import AudioError
from voiceguide.units import FULL_SCALE, SAMPLE_RATE

if TYPE_CHECKING:  # numpy is imported where it is used (the cache key needs only identity())
    import numpy as np
    import numpy.typing as npt

Samples: TypeAlias = "npt.NDArray[np.floating[Any]]"
QUALITY = "VHQ"  # libsoxr's 28-bit quality; measured as fast as its 20-bit HQ on speech


@cache
def identity() -> str:
    """What makes the resampled sound: the library, its version and the quality (part of
    the speech cache's key, so that clips resampled otherwise are made again)."""
    try:
        return f"soxr {version('soxr')} {QUALITY}"
    except PackageNotFoundError:
        return f"soxr ? {QUALITY}"


def resampled_length(length: int, rate: int, to_rate: int = SAMPLE_RATE) -> int:
    """The length, in samples at ``to_rate``, of ``length`` samples at ``rate``:
    rounded half up, in integers (no float can make it differ between machines)."""
    _check_rate(rate)
    _check_rate(to_rate)
    return (2 * length * to_rate + rate) // (2 * rate)


def resample(signal: Samples, rate: int, to_rate: int = SAMPLE_RATE) -> Samples:
    """``signal`` (mono floats) at ``to_rate``, band-limited, of :func:`resampled_length`
    samples, in 32-bit floats if ``signal`` is (a long background stays small), else in
    64-bit; a copy of it when the rates are the same."""
    import numpy as np

    length = resampled_length(len(signal), rate, to_rate)
    kind = np.float32 if signal.dtype == np.float32 else np.float64
    source: Samples = np.ascontiguousarray(signal, dtype=kind)
    if rate == to_rate:
        return source.copy()
    if length == 0 or len(source) == 0:
        return np.zeros(length, dtype=kind)
    import soxr

    result: Samples = np.asarray(soxr.resample(source, rate, to_rate, quality=QUALITY), dtype=kind)
    if len(result) == length:  # as libsoxr gives it: no copy
        return result
    out: Samples = np.zeros(length, dtype=kind)  # ours is the rule
    kept = min(length, len(result))
    out[:kept] = result[:kept]
    return out


def resample_pcm16(data: bytes, rate: int, to_rate: int = SAMPLE_RATE) -> bytes:
    """Signed 16-bit mono PCM at ``rate`` as the same at ``to_rate`` (see :func:`resample`);
    rounded to the nearest step (ties to even) and clipped to full scale."""
    import numpy as np

    if rate == to_rate:
        _check_rate(rate)
        return bytes(data)
    pcm = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2")
    return to_pcm16(resample(pcm.astype(np.float64) / FULL_SCALE, rate, to_rate), overwrite=True)


def to_pcm16(signal: Samples, overwrite: bool = False) -> bytes:
    """Floats of full scale 1 as signed 16-bit PCM, rounded (ties to even) and clipped.

    ``overwrite``: ``signal`` (64-bit floats) is the caller's to lose, and is worked in
    place (a new array of its size costs more in page faults than the work itself)."""
    import numpy as np

    if overwrite and signal.dtype == np.float64:
        scaled = np.multiply(signal, FULL_SCALE, out=signal)
    else:
        scaled = np.multiply(signal, FULL_SCALE, dtype=np.float64)
    np.rint(scaled, out=scaled)
    np.clip(scaled, -FULL_SCALE, FULL_SCALE - 1, out=scaled)
    return scaled.astype("<i2").tobytes()


def _check_rate(rate: int) -> None:
    if not isinstance(rate, int) or isinstance(rate, bool) or rate <= 0:
        raise AudioError(f"a sample rate must be a positive whole number of hertz, not {rate!r}")
