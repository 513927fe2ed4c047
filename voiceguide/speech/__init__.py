"""Speech engines sit behind one small interface.

An engine turns texts into audio and hands the audio back; it owns no files of
the caller's. Checking, tidying and caching the clips is the caller's job
(:mod:`voiceguide.clips`), so every engine gets the same checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from pydub import AudioSegment

DEFAULT_RATE = 150  # words per minute: calm, unhurried guidance


@dataclass(frozen=True)
class Voice:
    id: str
    name: str
    languages: tuple[str, ...] = ()


class SpeechEngine(Protocol):
    """What voiceguide needs from a speech engine."""

    #: Words per minute the engine speaks at, used to check that clips are plausible.
    words_per_minute: int

    def identity(self) -> str:
        """Everything that changes the sound: engine, version, voice, rate."""
        ...

    def voices(self) -> list[Voice]: ...

    def synthesize(self, texts: Sequence[str]) -> Iterator[tuple[str, AudioSegment]]:
        """Speak each text, yielding (text, audio) as each clip is ready."""
        ...


EngineFactory = Callable[[str | None, int], SpeechEngine]


def _make_pyttsx3(voice: str | None, rate: int) -> SpeechEngine:
    from voiceguide.speech.pyttsx3_engine import Pyttsx3Engine

    return Pyttsx3Engine(voice=voice, rate=rate)


ENGINES: dict[str, EngineFactory] = {"pyttsx3": _make_pyttsx3}


def get_engine(name: str, voice: str | None = None, rate: int = DEFAULT_RATE) -> SpeechEngine:
    from voiceguide.errors import SpeechError

    try:
        factory = ENGINES[name]
    except KeyError:
        raise SpeechError(
            f"unknown speech engine {name!r}; available: {', '.join(ENGINES)}"
        ) from None
    return factory(voice, rate)
