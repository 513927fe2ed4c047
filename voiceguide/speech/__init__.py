"""Speech engines sit behind one small interface.

An engine turns texts into audio and hands the audio back; it owns no files of
the caller's. Checking, tidying and caching the clips is the caller's job
(:mod:`voiceguide.speech.clips`), so every engine gets the same checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
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

    def start(self) -> None:
        """Begin what the engine's first request will need (without waiting for it), so
        that it goes on beside the caller's own work; an engine may do nothing here."""
        ...

    def identity(self) -> str:
        """Everything that changes the sound: engine, version, voice, rate."""
        ...

    def voices(self) -> list[Voice]: ...

    def synthesize(self, texts: Sequence[str]) -> Iterator[tuple[str, AudioSegment]]:
        """Speak each text, yielding (text, audio) as each clip is ready."""
        ...


def longest_first(texts: Sequence[str]) -> list[str]:
    """``texts`` in the order for speakers working side by side to take them: the
    longest first (by characters, which the time to speak a text follows), so the
    speakers finish together instead of one speaking a long text alone at the end."""
    return sorted(texts, key=len, reverse=True)


#: Makes an engine from (voice, rate, model, keep): a voice model file, or None for the
#: engine's default (an engine that takes no model file refuses one); and a folder
#: where the engine may keep what it prepares for itself between runs, or None.
EngineFactory = Callable[[str | None, int, Path | None, Path | None], SpeechEngine]


def _make_pyttsx3(
    voice: str | None, rate: int, model: Path | None, keep: Path | None
) -> SpeechEngine:
    from voiceguide.errors import SpeechError
    from voiceguide.speech.pyttsx3_engine import Pyttsx3Engine

    if model is not None:
        raise SpeechError("a voice model file is for Piper voices; use it with --engine piper")
    return Pyttsx3Engine(voice=voice, rate=rate)


def _make_piper(
    voice: str | None, rate: int, model: Path | None, keep: Path | None
) -> SpeechEngine:
    from voiceguide.speech.piper_engine import PiperEngine

    return PiperEngine(voice=voice, rate=rate, model=model, keep=keep)


ENGINES: dict[str, EngineFactory] = {"pyttsx3": _make_pyttsx3, "piper": _make_piper}


def get_engine(
    name: str,
    voice: str | None = None,
    rate: int = DEFAULT_RATE,
    model: Path | None = None,
    keep: Path | None = None,
) -> SpeechEngine:
    """The engine called ``name``; ``model`` is a voice model file (Piper's .onnx);
    ``keep`` a folder where it may keep what it prepares for itself between runs
    (Piper: its model as optimised for this machine), or None to keep nothing."""
    from voiceguide.errors import SpeechError

    try:
        factory = ENGINES[name]
    except KeyError:
        raise SpeechError(
            f"unknown speech engine {name!r}; available: {', '.join(ENGINES)}"
        ) from None
    return factory(voice, rate, model, keep)
