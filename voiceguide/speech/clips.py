"""Speech clips for a session: from the cache, or freshly synthesised and checked."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence

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


HELD_BYTES = 4 << 20  # of clips held in memory; past this, clips the cache holds are read again
RECENT_BYTES = 4 << 20  # of clips read from the cache, the last kept for the next time


class _Recent:
    """The clips read from the cache last, up to :data:`RECENT_BYTES`, shared by a
    :class:`Clips` and every view :meth:`Clips.renamed` makes of it (a batch makes
    one per session, and keeps them all)."""

    def __init__(self) -> None:
        self.clips: OrderedDict[str, AudioSegment] = OrderedDict()
        self.bytes = 0
        self.lock = threading.Lock()  # the two encoders' renders read clips side by side

    def get(self, key: str) -> AudioSegment | None:
        with self.lock:
            if key in self.clips:
                self.clips.move_to_end(key)
                return self.clips[key]
        return None

    def keep(self, key: str, clip: AudioSegment) -> None:
        with self.lock:
            if key not in self.clips:
                self.clips[key] = clip
                self.bytes += len(clip.raw_data)
            while self.bytes > RECENT_BYTES and len(self.clips) > 1:
                self.bytes -= len(self.clips.popitem(last=False)[1].raw_data)


class Clips(Mapping[str, AudioSegment]):
    """A clip for each text (a read-only dict).

    The first clips, up to :data:`HELD_BYTES`, are held in memory. Past that, a clip
    the cache holds is read from it when it is asked for, and the clips read last
    kept, up to :data:`RECENT_BYTES` (an island's, as a rule): so a long programme's
    speech is not all in memory at once. The plan has each clip's length
    (:meth:`samples`) without reading it. A clip the cache cannot give back (no
    cache, or one that could not be written) is held, whatever its size.
    """

    def __init__(
        self,
        held: Mapping[str, AudioSegment],
        stored: Mapping[str, tuple[str, int]] | None = None,  # text: (cache key, samples)
        cache: ClipCache | None = None,
        digests: Mapping[str, str] | None = None,
        recent: _Recent | None = None,
    ) -> None:
        self._held = dict(held)
        self._stored = dict(stored or {})
        self._cache = cache
        self._digests = dict(digests or {})
        self._recent = recent or _Recent()

    def __getitem__(self, text: str) -> AudioSegment:
        if text in self._held:
            return self._held[text]
        key, length = self._stored[text]
        kept = self._recent.get(key)
        if kept is not None:
            return kept
        clip = self._cache.get(key) if self._cache is not None else None
        if clip is None or samples(clip) != length:
            raise SpeechError(
                f"the speech cache lost the clip for {text!r} during the build "
                "(was the cache cleared?); build again"
            )
        self._recent.keep(key, clip)
        return clip

    def __iter__(self) -> Iterator[str]:
        yield from self._held
        yield from self._stored

    def __len__(self) -> int:
        return len(self._held) + len(self._stored)

    def __contains__(self, text: object) -> bool:
        return text in self._held or text in self._stored

    def samples(self, text: str) -> int:
        """The length of ``text``'s clip, in samples, without reading it."""
        return samples(self._held[text]) if text in self._held else self._stored[text][1]

    def digest(self, text: str) -> str:
        """A digest of ``text``'s clip, its samples and nothing else (a clip the cache
        holds is not read for it: its digest was made when it was spoken or checked)."""
        if text not in self._digests:
            self._digests[text] = digest(self[text])
        return self._digests[text]

    def renamed(self, names: Mapping[str, str]) -> Clips:
        """The clip of ``names[text]`` for each ``text`` (such as the words as spoken,
        for the words as written)."""
        held = {text: self._held[name] for text, name in names.items() if name in self._held}
        stored = {t: self._stored[n] for t, n in names.items() if n not in self._held}
        digests = {t: self._digests[n] for t, n in names.items() if n in self._digests}
        return Clips(held, stored, self._cache, digests, self._recent)


def digest(clip: AudioSegment) -> str:
    """A digest of a clip's samples (in the session's format)."""
    return hashlib.blake2b(clip.raw_data, digest_size=16).hexdigest()


def clip_digest(clips: Mapping[str, AudioSegment], text: str) -> str:
    """A digest of ``text``'s clip in ``clips`` (read only if it must be)."""
    return clips.digest(text) if isinstance(clips, Clips) else digest(clips[text])


def clip_samples(clips: Mapping[str, AudioSegment], text: str) -> int:
    """The length of ``text``'s clip in ``clips``, in samples (read only if it must be)."""
    return clips.samples(text) if isinstance(clips, Clips) else samples(clips[text])


def speak(
    texts: Sequence[str],
    engine: SpeechEngine,
    cache: ClipCache | None,
    progress: Progress,
) -> Clips:
    """A tidied, checked clip for every text."""
    held: dict[str, AudioSegment] = {}
    stored: dict[str, tuple[str, int]] = {}
    digests: dict[str, str] = {}
    size = 0

    def keep(text: str, key: str, clip: AudioSegment, in_cache: bool) -> None:
        nonlocal size
        if in_cache and size + len(clip.raw_data) > HELD_BYTES:
            stored[text] = (key, samples(clip))
            digests[text] = digest(clip)  # now, while it is in hand (a held clip's: if asked)
        else:
            held[text] = clip
            size += len(clip.raw_data)

    identity = engine.identity()
    wanted = list(dict.fromkeys(texts))
    for text in wanted:
        key = ClipCache.key(identity, text)
        cached = cache.get(key) if cache else None
        if cached is not None:
            keep(text, key, cached, True)
    missing = [t for t in wanted if t not in held and t not in stored]
    progress("speech", len(wanted) - len(missing), len(wanted))
    for text, raw in engine.synthesize(missing):
        clip = tidy_speech(raw)
        check_clip(text, clip, engine.words_per_minute)
        key = ClipCache.key(identity, text)
        if cache:
            cache.put(key, clip)
        keep(text, key, clip, cache is not None and cache.problem is None)
        progress("speech", len(held) + len(stored), len(wanted))
        checkpoint("speech")
    return Clips(held, stored, cache, digests)
