"""What the commands print as they work and when they are done."""

from __future__ import annotations

import sys
from typing import Any, ClassVar

import click


class ProgressReport:
    """Shows the library's progress callbacks as progress bars on stderr.

    If stderr cannot be written (a pipe whose reader has gone, as in ``2>&1 | head``),
    the bars stop and the work goes on: they are for a person watching, and the
    session is still wanted."""

    LABELS: ClassVar[dict[str, str]] = {
        "speech": "Speaking",
        "loudness": "Measuring loudness",
        "encoding": "Encoding",
    }

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.stage: str | None = None
        self.bar: Any = None
        self.done = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        try:
            if stage != self.stage or done < self.done:  # a new stage, or another pass
                self.close()
                self.stage = stage
                self.done = 0
                self.bar = click.progressbar(
                    length=max(total, 1), label=self.LABELS.get(stage, stage), file=sys.stderr
                ).__enter__()
            self.bar.update(done - self.done)
            self.done = done
        except OSError:
            self.enabled, self.bar = False, None

    def close(self) -> None:
        if self.bar is not None:
            bar, self.bar = self.bar, None
            try:
                bar.__exit__(None, None, None)
            except OSError:
                self.enabled = False
