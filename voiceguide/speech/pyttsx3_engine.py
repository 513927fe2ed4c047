"""The default engine: pyttsx3 (espeak-ng on Linux), run in worker processes.

pyttsx3 initialises espeak once per process and can hang or skip files when it
writes several, and espeak-ng's output for a text depends on what the same process
spoke before it, so each text is spoken in a fresh worker process (a few of them
at once) that is killed if it stops answering.
"""

from __future__ import annotations

import json
import os
import queue
import re
import selectors
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pydub import AudioSegment

from voiceguide.audio import from_wav_bytes
from voiceguide.errors import AudioError, MissingToolError, SpeechError
from voiceguide.speech import Voice

WORKER = Path(__file__).with_name("_pyttsx3_worker.py")
START_TIMEOUT = 30.0  # seconds for a worker to load the engine
CLIP_TIMEOUT = 30.0  # seconds for one clip
MAX_PIECE = 160  # characters
ATTEMPTS = 4  # fresh workers for a text whose audio pyttsx3 did not write
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
        self._live: set[subprocess.Popen[str]] = set()  # running workers
        self._lock = threading.Lock()

    def _load_info(self) -> dict[str, Any]:
        if self._info is None:
            self._info = self._run([], lambda _: None)
        return self._info

    def identity(self) -> str:
        info = self._load_info()
        return (
            f"pyttsx3 {info['pyttsx3']}/{info['library']}/{info['voice']}/{self.words_per_minute}"
        )

    def voices(self) -> list[Voice]:
        return [
            Voice(v["id"], v["name"], tuple(v["languages"])) for v in self._load_info()["voices"]
        ]

    def synthesize(self, texts: Sequence[str]) -> Iterator[tuple[str, AudioSegment]]:
        if not texts:
            return
        self._load_info()
        pending: queue.SimpleQueue[tuple[int, str]] = queue.SimpleQueue()
        for job in enumerate(texts):
            pending.put(job)
        count = min(self.workers, len(texts))
        results: queue.Queue[tuple[str, AudioSegment] | BaseException | None] = queue.Queue()
        stopped = threading.Event()
        with tempfile.TemporaryDirectory(prefix="voiceguide-speech-") as folder:

            def work() -> None:
                try:
                    while not stopped.is_set():
                        try:
                            number, text = pending.get_nowait()
                        except queue.Empty:
                            break
                        results.put((text, self._speak(number, text, folder)))
                    results.put(None)
                except BaseException as e:  # handed to the caller's thread
                    results.put(e)

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
            finally:  # stopped early (an error, Ctrl-C): no worker may outlive the build
                stopped.set()
                with self._lock:
                    for proc in self._live:
                        proc.kill()
                for thread in threads:
                    thread.join(timeout=5)

    def _speak(self, number: int, text: str, folder: str) -> AudioSegment:
        """Speak one text in a worker process of its own.

        espeak-ng keeps state from one utterance to the next (and cannot be reset or
        started twice in a process), so a clip spoken after others differs slightly
        from the same text spoken first. One process per text makes every clip depend
        on its text alone: builds are byte-identical whatever the cache held and
        however the texts were shared out among the workers.
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

            self._run(jobs, on_line)
            if len(parts) == len(jobs):
                return sum(parts[1:], parts[0])
        raise SpeechError(f"the speech engine wrote no audio for {text!r}")

    def _run(self, jobs: list[tuple[str, str]], on_line: Any) -> dict[str, Any]:
        """Run one worker over ``jobs``; returns the engine info it reports."""
        request = {"voice": self.voice, "rate": self.words_per_minute, "jobs": jobs}
        with tempfile.TemporaryFile("w+") as errors:
            proc = subprocess.Popen(
                [sys.executable, str(WORKER), str(os.getpid())],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
            with self._lock:
                self._live.add(proc)
            try:
                assert proc.stdin is not None
                proc.stdin.write(json.dumps(request))
                proc.stdin.close()
                return self._follow(proc, jobs, on_line, errors)
            finally:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
                with self._lock:
                    self._live.discard(proc)

    def _follow(
        self, proc: subprocess.Popen[str], jobs: list[tuple[str, str]], on_line: Any, errors: Any
    ) -> dict[str, Any]:
        assert proc.stdout is not None
        info: dict[str, Any] | None = None
        waiting = START_TIMEOUT
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            while True:
                if not selector.select(timeout=waiting):
                    current = len(jobs) and jobs[0][0]
                    raise SpeechError(
                        f"the speech engine stopped answering (no reply in {waiting:.0f} s)"
                        + (f" while speaking {current!r}" if current else "")
                    )
                line = proc.stdout.readline()
                if not line:
                    errors.seek(0)
                    detail = errors.read().strip().splitlines()
                    last = detail[-1] if detail else f"exit code {proc.wait()}"
                    raise SpeechError(f"the speech engine crashed: {last}")
                message = json.loads(line)
                if "error" in message:
                    raise _engine_error(message["error"], message["message"])
                if "info" in message:
                    info = message["info"]
                    waiting = CLIP_TIMEOUT
                elif "ok" in message:
                    assert info is not None
                    return info
                else:
                    on_line(message)


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
