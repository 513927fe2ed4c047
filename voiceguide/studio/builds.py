"""The studio's builds: queued, built one at a time, each in a folder of its own.

A build is known by a random id; the files it wrote are found by that id and a
fixed name (see :data:`FILES`), so no path in a request reaches the file system.
"""

from __future__ import annotations

import queue
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voiceguide.errors import VoiceguideError
from voiceguide.studio.work import Draft, DraftError, Engines, build_draft

#: What a finished build offers: the name in its address -> (file, media type).
FILES = {
    "session.mp3": ("session.mp3", "audio/mpeg"),
    "transcript.vtt": ("session.vtt", "text/vtt"),
    "timeline.json": ("timeline.json", "application/json"),
}
STAGES = {"speech": "Speaking", "loudness": "Measuring loudness", "encoding": "Encoding"}


class CancelledError(Exception):
    """The studio is stopping: the build in progress gives up."""


@dataclass
class Build:
    id: str
    draft: Draft
    folder: Path
    state: str = "queued"  # queued, running, done, failed
    stage: str = ""
    done: int = 0
    total: int = 0
    error: str = ""
    where: str = ""
    summary: dict[str, Any] = field(default_factory=dict)
    version: int = 0  # bumped on every change, so a watcher sends only news
    clicked: float = field(default_factory=time.perf_counter)

    def snapshot(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "stage": STAGES.get(self.stage, self.stage),
            "done": self.done,
            "total": self.total,
            "error": self.error,
            "where": self.where,
            "summary": self.summary,
        }


class Builds:
    """Builds queued and run one at a time in a worker thread."""

    def __init__(self, workdir: Path, engines: Engines | None = None) -> None:
        self.workdir = workdir
        self.engines = engines or Engines()
        self._builds: dict[str, Build] = {}
        self._queue: queue.SimpleQueue[Build | None] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._changed = threading.Condition()
        self._worker = threading.Thread(target=self._work, name="studio-builds", daemon=True)
        self._worker.start()

    def submit(self, draft: Draft) -> Build:
        build_id = secrets.token_hex(16)
        build = Build(build_id, draft, self.workdir / "builds" / build_id)
        self._builds[build_id] = build
        self._queue.put(build)
        return build

    def get(self, build_id: str) -> Build | None:
        return self._builds.get(build_id)

    def file(self, build_id: str, name: str) -> tuple[Path, str] | None:
        """The file ``name`` (a key of :data:`FILES`) of a finished build, or None."""
        build = self._builds.get(build_id)
        if build is None or build.state != "done" or name not in FILES:
            return None
        filename, media = FILES[name]
        return build.folder / filename, media

    def wait(self, build: Build, seen: int, timeout: float) -> None:
        """Wait up to ``timeout`` s for ``build`` to change from version ``seen``."""
        with self._changed:
            self._changed.wait_for(
                lambda: build.version != seen or self._stopping.is_set(), timeout
            )

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def begin_stop(self) -> None:
        """Tell the build in progress, those queued and their watchers to stop."""
        self._stopping.set()
        self._queue.put(None)
        with self._changed:
            self._changed.notify_all()

    def stop(self) -> None:
        """Cancel the build in progress and those queued; wait for the worker."""
        self.begin_stop()
        self._worker.join(timeout=30)
        self.engines.close()

    def _update(self, build: Build, **changes: Any) -> None:
        with self._changed:
            for key, value in changes.items():
                setattr(build, key, value)
            build.version += 1
            self._changed.notify_all()

    def _work(self) -> None:
        while True:
            build = self._queue.get()
            if build is None or self._stopping.is_set():
                return
            self._run(build)

    def _run(self, build: Build) -> None:
        self._update(build, state="running")
        try:
            build.folder.mkdir(parents=True)
            result = build_draft(
                build.draft, self.workdir, build.folder, self.engines, self._progress(build)
            )
            (build.folder / "timeline.json").write_text(result.timeline.to_json(), "utf-8")
        except DraftError as e:
            self._failed(build, str(e), e.where)
        except VoiceguideError as e:
            self._failed(build, str(e), "build")
        except CancelledError:
            self._failed(build, "the studio stopped", "build")
        except Exception as e:  # the studio must keep running whatever one build does
            self._failed(build, f"the build failed unexpectedly: {e!r}", "build")
        else:
            timeline = result.timeline
            self._update(
                build,
                state="done",
                summary={
                    "seconds": round(timeline.length / timeline.sample_rate, 1),
                    "holds": [round(h.length / timeline.sample_rate, 3) for h in timeline.holds],
                    "built_in": round(result.seconds_taken, 1),
                    "left_out": len(timeline.dropped),
                },
            )

    def _failed(self, build: Build, message: str, where: str) -> None:
        shutil.rmtree(build.folder, ignore_errors=True)
        self._update(build, state="failed", error=message, where=where)

    def _progress(self, build: Build) -> Callable[[str, int, int], None]:
        def report(stage: str, done: int, total: int) -> None:
            if self._stopping.is_set():
                raise CancelledError
            self._update(build, stage=stage, done=done, total=total)

        return report
