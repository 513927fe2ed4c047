"""The one place where time is converted between seconds and samples.

All audio in voiceguide is mono, 16-bit, at :data:`SAMPLE_RATE`; every position
and length in a timeline is a whole number of samples at that rate.
"""

from __future__ import annotations

SAMPLE_RATE = 44100
CHANNELS = 1
SAMPLE_WIDTH = 2  # bytes per sample: signed 16-bit little-endian
FULL_SCALE = 32768  # a sample's full scale: floats of full scale 1 are times this


def to_samples(seconds: float) -> int:
    """Seconds to the nearest whole sample."""
    return round(seconds * SAMPLE_RATE)


def to_seconds(samples: int) -> float:
    """Samples to seconds."""
    return samples / SAMPLE_RATE


def clock(samples: int) -> str:
    """Samples as a clock reading, ``m:ss.s`` (or ``h:mm:ss.s``)."""
    tenths = round(samples * 10 / SAMPLE_RATE)
    minutes, tenth_seconds = divmod(tenths, 600)
    hours, minutes = divmod(minutes, 60)
    seconds = f"{tenth_seconds // 10:02d}.{tenth_seconds % 10}"
    if hours:
        return f"{hours}:{minutes:02d}:{seconds}"
    return f"{minutes}:{seconds}"
