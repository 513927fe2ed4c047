"""A fake speech engine: deterministic tones whose length follows the word count.

Like piper's tiny test voice, it lets tests assert durations exactly.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator, Sequence

from pydub import AudioSegment

from voiceguide.speech import Voice

SECONDS_PER_WORD = 0.25

# The smallest useful routine, for tests that build from a file.
MINI = """\
name: mini
title: Mini stretch
steps:
  - Lie down on your {{ side }} side.
reminders:
  - Breathe.
"""


def tone(seconds: float, rate: int, period: int = 196) -> AudioSegment:
    """A steady tone (225 Hz at 44.1 kHz) of exactly round(seconds * rate) samples."""
    count = round(seconds * rate)
    cycle = array(
        "h", (round(8000 * math.sin(2 * math.pi * (n + 0.5) / period)) for n in range(period))
    )
    values = (cycle * (count // period + 1))[:count]
    return AudioSegment(data=values.tobytes(), sample_width=2, frame_rate=rate, channels=1)


class FakeEngine:
    """Speaks each word as a quarter second of tone, at ``rate`` Hz.

    ``seconds_per_word`` and ``seconds_per_clip`` (added to every clip) model a
    slower voice, such as espeak-ng's (see tests/unit/test_builtin_routines.py)."""

    def __init__(
        self,
        rate: int = 44100,
        words_per_minute: int = 240,
        seconds_per_word: float = SECONDS_PER_WORD,
        seconds_per_clip: float = 0.0,
    ) -> None:
        self.rate = rate
        self.words_per_minute = words_per_minute
        self.seconds_per_word = seconds_per_word
        self.seconds_per_clip = seconds_per_clip
        self.spoken: list[str] = []
        self.calls: list[str] = []  # "start" and "identity", as they came

    def start(self) -> None:
        self.calls.append("start")

    def identity(self) -> str:
        self.calls.append("identity")
        pace = (self.seconds_per_word, self.seconds_per_clip)
        slower = "" if pace == (SECONDS_PER_WORD, 0.0) else f"/{pace[0]:g}+{pace[1]:g}"
        return f"fake/{self.rate}/{self.words_per_minute}{slower}"

    def voices(self) -> list[Voice]:
        return [Voice("fake/one", "Fake One", ("en",))]

    def synthesize(self, texts: Sequence[str]) -> Iterator[tuple[str, AudioSegment]]:
        for text in texts:
            self.spoken.append(text)
            seconds = self.seconds_per_clip + self.seconds_per_word * len(text.split())
            yield text, tone(seconds, self.rate)
