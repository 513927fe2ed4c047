"""The default engine: pyttsx3 (espeak-ng on Linux), run in worker processes.

pyttsx3 initialises espeak once per process and can hang or skip files when it
writes several, and espeak-ng's output for a text depends on what the same
process spoke before it. So each text is spoken by a fresh espeak: a few worker
processes (one per core) have loaded pyttsx3 once, and each forks a child per
text that initialises espeak, speaks and exits (see ``_pyttsx3_worker.py``). A
worker that stops answering is killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import select
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from pydub import AudioSegment

from voiceguide.errors import AudioError, MissingToolError, SpeechError
from voiceguide.sound.audio import from_wav_bytes
from voiceguide.speech import Voice, longest_first

WORKER = Path(__file__).with_name("_pyttsx3_worker.py")
START_TIMEOUT = 30.0  # seconds for a worker to load the engine, or a speaker to start
CLIP_TIMEOUT = 30.0  # seconds for one clip
MAX_PIECE = 160  # characters
ATTEMPTS = 4  # fresh speakers for a text whose audio pyttsx3 did not write
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")
INSTALL_HINT = "install it with: apt-get install espeak-ng (Debian/Ubuntu)"


class Pyttsx3Engine:
    def __init__(
        self, voice: str | None = None, rate: int = 150, workers: int | None = None
    ) -> None:
        self.voice = voice
        self.words_per_minute = rate
        self.workers = workers or min(4, os.cpu_count() or 1)
        self._info: dict[str, Any] | None = None
        self._live: set[_Zygote] = set()  # running workers
        self._idle: list[_Zygote] = []  # running workers that no thread is using
        self._lock = threading.Lock()
        # Workers still running when voiceguide exits are stopped before it does.
        weakref.finalize(self, _stop_all, self._live)

    def start(self) -> None:
        """Start a worker now, for the engine's first request, and return at once: its
        start-up (a new Python loading pyttsx3, some 80 ms) goes on beside the caller's
        own work. Call it from a thread that outlives the engine's use (see
        :class:`_Zygote`)."""
        with self._lock:
            if self._live:
                return
        speaker = self._start()
        with self._lock:
            self._idle.append(speaker)

    def _load_info(self, voices: bool = False) -> dict[str, Any]:
        """What the engine is (and, with ``voices``, every voice it has)."""
        if self._info is None or (voices and "voices" not in self._info):
            speaker = self._take()
            try:
                info = speaker.run(self._request([], info=True, voices=voices), lambda _: None)
            except BaseException:
                self._stop(speaker)
                raise
            with self._lock:
                self._idle.append(speaker)  # for synthesize, which will likely follow
            if info is None:
                raise SpeechError("the speech engine did not say which it is")
            self._info = info
        return self._info

    def close(self) -> None:
        """Stop every worker (they are started again when needed)."""
        with self._lock:
            live = list(self._live)
            idle, self._idle = self._idle, []
            self._live.difference_update(idle)
        _stop_all(live)
        for speaker in idle:  # no thread is using these: let go of their pipes too
            speaker.close()

    def identity(self) -> str:
        info = self._load_info()
        return (
            f"pyttsx3 {info['pyttsx3']}/{info['library']}/{info['voice']}/{self.words_per_minute}"
        )

    def voices(self) -> list[Voice]:
        return [
            Voice(v["id"], v["name"], tuple(v["languages"]))
            for v in self._load_info(voices=True)["voices"]
        ]

    def synthesize(self, texts: Sequence[str]) -> Iterator[tuple[str, AudioSegment]]:
        if not texts:
            self.close()
            return
        self._load_info()
        pending: queue.SimpleQueue[tuple[int, str]] = queue.SimpleQueue()
        for job in enumerate(longest_first(texts)):
            pending.put(job)
        count = min(self.workers, len(texts))
        results: queue.Queue[tuple[str, AudioSegment] | BaseException | None] = queue.Queue()
        stopped = threading.Event()
        with tempfile.TemporaryDirectory(prefix="voiceguide-speech-") as folder:

            def work() -> None:
                # A worker is started here, in the thread that uses it, unless one is
                # idle: the kernel kills a worker when the thread that started it ends.
                speaker: _Zygote | None = None
                try:
                    while not stopped.is_set():
                        try:
                            number, text = pending.get_nowait()
                        except queue.Empty:
                            break
                        if speaker is None or speaker.closed:
                            speaker = self._take()
                        results.put((text, self._speak(speaker, number, text, folder)))
                    results.put(None)
                except BaseException as e:  # handed to the caller's thread
                    results.put(e)
                finally:
                    if speaker is not None:
                        self._stop(speaker)

            threads = [threading.Thread(target=work, daemon=True) for _ in range(count)]
            for thread in threads:
                thread.start()
            try:
                finished = 0
                while finished < count:
                    item = results.get()
                    if item is None:
                        finished += 1
                    elif isinstance(item, BaseException):
                        raise item
                    else:
                        yield item
            finally:  # done, or stopped early (an error, Ctrl-C): no worker outlives it
                stopped.set()
                self.close()
                for thread in threads:
                    thread.join(timeout=5)

    def _speak(self, speaker: _Zygote, number: int, text: str, folder: str) -> AudioSegment:
        """Speak one text in a fresh espeak of its own (a child of ``speaker``).

        espeak-ng keeps state from one utterance to the next (and cannot be reset or
        started twice in a process), so a clip spoken after others differs slightly
        from the same text spoken first. A fresh espeak per text makes every clip
        depend on its text alone: builds are byte-identical whatever the cache held
        and however the texts were shared out among the workers.
        """
        pieces = split_text(text)
        for attempt in range(ATTEMPTS):
            jobs = [
                (piece, os.path.join(folder, f"{number}-{attempt}-{p}.wav"))
                for p, piece in enumerate(pieces)
            ]
            parts: list[AudioSegment] = []

            def on_line(
                message: dict[str, Any],
                jobs: list[tuple[str, str]] = jobs,
                parts: list[AudioSegment] = parts,
            ) -> None:
                i = int(message["done"])
                if message.get("written", True):
                    parts.append(_read_clip(jobs[i][1], jobs[i][0]))

            speaker.run(self._request(jobs), on_line)
            if len(parts) == len(jobs):
                return sum(parts[1:], parts[0])
        raise SpeechError(f"the speech engine wrote no audio for {text!r}")

    def _request(
        self, jobs: list[tuple[str, str]], info: bool = False, voices: bool = False
    ) -> dict[str, Any]:
        return {
            "voice": self.voice, "rate": self.words_per_minute, "jobs": jobs, "info": info,
            "voices": voices,
        }  # fmt: skip

    def _take(self) -> _Zygote:
        """An idle worker that is still running, or a new one."""
        with self._lock:
            while self._idle:
                speaker = self._idle.pop()
                if speaker.proc.poll() is None:
                    return speaker
        return self._start()

    def _start(self) -> _Zygote:
        """A new worker, stopped with the others if the build stops early."""
        speaker = _Zygote()
        with self._lock:
            self._live.add(speaker)
        return speaker

    def _stop(self, speaker: _Zygote) -> None:
        speaker.close()
        with self._lock:
            self._live.discard(speaker)


class _Zygote:
    """One worker process (see ``_pyttsx3_worker.py``): it has loaded pyttsx3 and
    forks a fresh speaker for each request, one request at a time. The kernel
    kills it when the thread that started it ends, so it is started by a thread
    that outlives its use: the caller of :meth:`Pyttsx3Engine.synthesize` (which
    waits for its own threads) or one of those threads."""

    def __init__(self) -> None:
        self._errors = tempfile.TemporaryFile("w+", errors="replace")  # noqa: SIM115 (closed by close())
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER), str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
        )
        self._ready = False
        self.closed = False
        self._since = 0  # where the current request's part of the worker's stderr begins
        self._pending = b""  # read from the worker, not yet a whole line

    def run(self, request: dict[str, Any], on_line: Any) -> dict[str, Any] | None:
        """Serve one request; the engine info it reports, if it was asked for.

        Raises SpeechError when the worker hangs, crashes or reports an error; the
        worker is then closed and of no further use."""
        jobs: list[tuple[str, str]] = request["jobs"]
        current = jobs[0][0] if jobs else ""
        try:
            if not self._ready:
                self._follow(START_TIMEOUT, current)  # {"ready": true}
                self._ready = True
            self._errors.seek(0, os.SEEK_END)
            self._since = self._errors.tell()  # what it logs from now on is this request's
            assert self.proc.stdin is not None
            try:
                self.proc.stdin.write(json.dumps(request).encode() + b"\n")
                self.proc.stdin.flush()
            except OSError:
                self._crashed(self.proc.wait())
            first = self._follow(START_TIMEOUT, current)  # {"info": ...} or {"started": true}
            info: dict[str, Any] | None = first.get("info")
            ok = False
            while True:
                message = self._follow(CLIP_TIMEOUT, current)
                if "done" in message:
                    on_line(message)
                elif "ok" in message:
                    ok = True
                elif "exit" in message:
                    if not ok:
                        self._crashed(int(message["exit"]))
                    return info
        except BaseException:
            self.close()
            raise

    def _follow(self, waiting: float, current: str) -> dict[str, Any]:
        """The worker's next message; raises on silence, a crash or an error."""
        stdout = self.proc.stdout
        assert stdout is not None
        deadline = time.monotonic() + waiting
        while b"\n" not in self._pending:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([stdout], [], [], max(0.0, left))
            if not ready:
                raise SpeechError(
                    f"the speech engine stopped answering (no reply in {waiting:.0f} s)"
                    + (f" while speaking {current!r}" if current else "")
                )
            chunk = os.read(stdout.fileno(), 65536)
            if not chunk:
                self._crashed(self.proc.wait())
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        message: dict[str, Any] = json.loads(line)
        if "error" in message:
            raise _engine_error(message["error"], message["message"])
        return message

    def _crashed(self, code: int) -> NoReturn:
        self._errors.seek(self._since)
        detail = self._errors.read().strip().splitlines()
        last = detail[-1] if detail else f"exit code {code}"
        raise SpeechError(f"the speech engine crashed: {last}")

    def stop(self) -> None:
        """Stop the worker and the speaker it may be running (any thread may; idempotent)."""
        self.closed = True
        if self.proc.poll() is None:
            self.proc.terminate()  # it kills its speaker, then itself
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc.wait()

    def close(self) -> None:
        """Stop the worker and let go of its pipes (only the thread that uses it)."""
        self.stop()
        for stream in (self.proc.stdin, self.proc.stdout, self._errors):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()


def _stop_all(speakers: Iterable[_Zygote]) -> None:
    for speaker in list(speakers):
        speaker.stop()


def split_text(text: str) -> list[str]:
    """Split text into sentences (and long sentences at commas).

    pyttsx3's espeak driver silently writes no file for a text of more than
    about 200 characters, so each piece is spoken on its own and joined.
    """
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(text.strip()):
        while len(sentence) > MAX_PIECE:
            cut = sentence.rfind(",", 0, MAX_PIECE)
            cut = cut if cut > 0 else sentence.rfind(" ", 0, MAX_PIECE)
            cut = cut if cut > 0 else MAX_PIECE
            pieces.append(sentence[: cut + 1].strip())
            sentence = sentence[cut + 1 :]
        if sentence.strip():
            pieces.append(sentence.strip())
    return pieces or [text]


def _engine_error(kind: str, message: str) -> Exception:
    if kind == "missing-espeak":
        return MissingToolError(f"espeak-ng is not installed; {INSTALL_HINT}")
    if kind == "voice":
        return SpeechError(f"unknown voice {message!r}; list the voices with: voiceguide voices")
    return SpeechError(f"the speech engine failed to start: {message}")


def _read_clip(path: str, text: str) -> AudioSegment:
    try:
        data = Path(path).read_bytes()
    except OSError:
        raise SpeechError(f"the speech engine wrote no audio for {text!r}") from None
    try:
        return from_wav_bytes(data, f"the clip for {text!r}")
    except AudioError as e:
        raise SpeechError(str(e)) from None
