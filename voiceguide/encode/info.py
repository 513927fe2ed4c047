"""What a session file holds: its format, tags, chapters and measured loudness."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voiceguide.encode.export import find_tool
from voiceguide.encode.meter import Loudness, measure_file
from voiceguide.errors import ExportError


@dataclass(frozen=True)
class ChapterInfo:
    title: str
    start: float  # seconds
    end: float


@dataclass(frozen=True)
class FileInfo:
    path: Path
    container: str
    codec: str
    sample_rate: int
    channels: int
    duration: float  # seconds, as a player reads it
    bit_rate: int | None
    tags: dict[str, str]
    chapters: tuple[ChapterInfo, ...]
    loudness: Loudness


def _probe(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ExportError(f"{path} is not a file")
    result = subprocess.run(
        [
            find_tool("ffprobe"), "-v", "error", "-show_format", "-show_streams",
            "-show_chapters", "-of", "json", str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    try:
        data: dict[str, Any] = json.loads(result.stdout)
        if not isinstance(data.get("format"), dict):
            raise ValueError("no format")
    except ValueError:
        message = result.stderr.strip().splitlines()
        raise ExportError(
            f"{path} is not an audio file ffprobe can read"
            + (f" ({message[-1]})" if message else "")
        ) from None
    return data


def file_info(path: Path) -> FileInfo:
    """Probe ``path`` and measure its loudness (EBU R128, true peak)."""
    data = _probe(path)
    audio = [s for s in data.get("streams", []) if s.get("codec_type") == "audio"]
    if not audio:
        raise ExportError(f"{path} holds no audio")
    stream, fmt = audio[0], data["format"]
    tags = {
        str(k).lower(): str(v) for k, v in {**stream.get("tags", {}), **fmt.get("tags", {})}.items()
    }
    bit_rate = stream.get("bit_rate") or fmt.get("bit_rate")
    return FileInfo(
        path=path,
        container=str(fmt.get("format_name", "?")),
        codec=str(stream.get("codec_name", "?")),
        sample_rate=int(stream.get("sample_rate", 0)),
        channels=int(stream.get("channels", 0)),
        duration=float(fmt.get("duration", 0.0)),
        bit_rate=int(bit_rate) if bit_rate else None,
        tags=tags,
        chapters=tuple(
            ChapterInfo(
                str(c.get("tags", {}).get("title", f"Chapter {n}")),
                float(c["start_time"]),
                float(c["end_time"]),
            )
            for n, c in enumerate(data.get("chapters", []), start=1)
        ),
        loudness=measure_file(path),
    )
