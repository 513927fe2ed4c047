"""Encode spans of a session's audio into files of their own, one ffmpeg each, side
by side (or one after another): the MP3 split (voiceguide/encode/mp3/split.py) and
the M4A pieces (voiceguide/encode/m4a.py) both join what this writes."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from voiceguide.encode.export import Encoding, encode
from voiceguide.progress import Progress

#: The session's PCM from one sample to another (such as ``Sounds.render`` with a span).
RenderSpan = Callable[[int, int], Iterable[bytes]]


def forward_only(progress: Progress) -> Progress:
    """``progress``, passed on only where it goes further: after pieces that could not
    be joined, the one encoder that takes their place starts again from nothing."""
    reported = 0
    lock = threading.Lock()

    def forward(stage: str, done: int, total: int) -> None:
        nonlocal reported
        with lock:
            if done > reported:
                reported = done
                progress(stage, done, total)

    return forward


class _StoppedError(Exception):
    """The other encoder failed, or the build was interrupted: stop this one."""


def encode_spans(
    render: RenderSpan,
    spans: Sequence[tuple[int, int]],
    paths: Sequence[Path],
    encoding: Encoding,
    progress: Progress,
    samples: int,
    at_once: bool = True,
) -> None:
    """Encode each of two ``spans`` (start, end) of ``render`` into the path beside it:
    at once, or with ``at_once`` False one after the other; progress counts both, in
    samples of the whole (``samples`` long). Where one fails, the other stops, and
    the first error is raised."""
    work = sum(end - start for start, end in spans)
    done = [0] * len(spans)
    stop = threading.Event()
    lock = threading.Lock()

    def run(index: int) -> None:
        start, end = spans[index]

        def report(stage: str, count: int, _: int) -> None:
            if stop.is_set():
                raise _StoppedError
            with lock:
                done[index] = count
                progress(stage, sum(done) * samples // work, samples)

        try:
            encode(render(start, end), end - start, paths[index], encoding, report, verify=False)
        except BaseException:
            stop.set()
            raise

    if not at_once:
        for index in range(len(spans)):
            run(index)
        return
    first, second = range(len(spans))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="voiceguide-encode-a") as pool:
        other = pool.submit(run, first)
        try:
            with contextlib.suppress(_StoppedError):  # A failed: its error is raised below
                run(second)
            other.result()
        except BaseException:
            stop.set()  # A stops at its next block; the pool waits for it to end
            raise
