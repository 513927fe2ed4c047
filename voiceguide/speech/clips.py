"""Speech clips for a session: from the cache, or freshly synthesised and checked."""

from __future__ import annotations

from collections.abc import Sequence

from pydub import AudioSegment

from voiceguide.checkpoint import checkpoint
from voiceguide.errors import SpeechError
from voiceguide.progress import Progress
from voiceguide.sound.audio import samples, tidy_speech
from voiceguide.speech import SpeechEngine
from voiceguide.speech.cache import ClipCache
from voiceguide.units import to_seconds


def expected_seconds(text: str, words_per_minute: int) -> float:
    return len(text.split()) * 60 / words_per_minute


def check_clip(text: str, audio: AudioSegment, words_per_minute: int) -> None:
    """Refuse a clip that is empty, or far too short or long for its words."""
    seconds = to_seconds(samples(audio))
    expected = expected_seconds(text, words_per_minute)
    if seconds == 0:
        raise SpeechError(f"the speech engine produced silence for {text!r}")
    if seconds < 0.25 * expected or seconds > 4 * expected + 2:
        raise SpeechError(
            f"the speech engine produced {seconds:.1f} s of audio for {text!r}, "
            f"where about {expected:.1f} s was expected; the text may have been cut off"
        )


def speak(
    texts: Sequence[str],
    engine: SpeechEngine,
    cache: ClipCache | None,
    progress: Progress,
) -> dict[str, AudioSegment]:
    """A tidied, checked clip for every text."""
    clips: dict[str, AudioSegment] = {}
    identity = engine.identity()
    wanted = list(dict.fromkeys(texts))
    for text in wanted:
        cached = cache.get(ClipCache.key(identity, text)) if cache else None
        if cached is not None:
            clips[text] = cached
    missing = [t for t in wanted if t not in clips]
    progress("speech", len(clips), len(wanted))
    for text, raw in engine.synthesize(missing):
        clip = tidy_speech(raw)
        check_clip(text, clip, engine.words_per_minute)
        clips[text] = clip
        if cache:
            cache.put(ClipCache.key(identity, text), clip)
        progress("speech", len(clips), len(wanted))
        checkpoint("speech")
    return clips
