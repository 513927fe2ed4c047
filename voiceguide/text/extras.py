"""Extras during a hold: the optional sounds beside the voice.

These are plain values. A routine's ``extras:`` section (and the CLI's options)
are validated into them; the planner, the layer planner and the renderer read
them. Every extra is off (``None``) unless asked for, and each has its own
volume, in dB relative to the voice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

#: A chime: the packaged sound, none at all, or a sound file (already resolved
#: inside the routine's folder or the package's assets, see the routine loader).
ChimeSound = Literal["default", "off"] | Path
#: The words a chime may be given as, instead of a file.
CHIME_WORDS = ("default", "off")


@dataclass(frozen=True)
class Countdown:
    """A spoken countdown ("three, two, one"), one number a second, ending as the hold ends."""

    start: int = 3
    volume: float = 0.0  # dB relative to the voice


@dataclass(frozen=True)
class Pacer:
    """Soft tones that pace inhale and exhale through the hold."""

    breaths_per_minute: float = 6.0
    volume: float = -20.0  # dB relative to the voice


@dataclass(frozen=True)
class Background:
    """A bed under the hold: generated soft noise, or a sound file, looped and faded,
    ducking under speech."""

    source: Path | None = None  # None: generated soft noise
    volume: float = -28.0  # dB relative to the voice
    duck: float = 10.0  # dB the bed drops while someone speaks


@dataclass(frozen=True)
class Extras:
    countdown: Countdown | None = None
    pacer: Pacer | None = None
    background: Background | None = None
    start_chime: ChimeSound = "default"
    end_chime: ChimeSound = "default"
    #: dB relative to the chimes' own level (packaged chimes and sound files alike are
    #: scaled to one peak), so -6 is half as loud; applies to both chimes.
    chime_volume: float = 0.0
