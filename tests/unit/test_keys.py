"""Session options given as keys (voiceguide/build/keys.py), as a programme file or a
form would give them, outside a batch file."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceguide.build.keys import check_keys, extras_change, keys_model, options_from_keys
from voiceguide.build.options import FILE_KEYS, SESSION_OPTIONS, by_key
from voiceguide.build.session import SessionOptions
from voiceguide.errors import VoiceguideError


class FormError(VoiceguideError):
    """The error a caller of check_keys chooses."""


EXTRAS = ("hold", "countdown", "countdown_from", "pacer", "breaths", "background", "volume")


def test_checked_keys_are_converted_and_only_those_given_come_back() -> None:
    values = check_keys({"hold": "1m30s", "pacer": True, "volume": {"pacer": "-24"}}, FormError)
    assert values == {"hold": 90.0, "pacer": True, "volume": {"pacer": -24.0}}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rate": 301}, "rate: 301 is out of range; write at most 300"),
        ({"hold": "soon"}, "hold: 'soon' is not a duration"),
        ({"volume": {"voice": -3}}, "volume: 'voice' is not an extra; give a volume for count"),
        ({"countdown": 5}, "countdown: give true or false (a number goes in countdown_from)"),
        ({"pacer": False, "breaths": 4}, "pacer: false and breaths contradict each other"),
        ({"end_chime": None}, "end_chime: no value; give one, or leave the key out"),
        ({"bitrate": "100k"}, "bitrate: use one of 64k, 96k, 128k"),
        ({"volumes": {"pacer": -3}}, "unknown key 'volumes'; did you mean 'volume'?"),
    ],
)
def test_a_bad_key_raises_the_callers_error_with_a_batch_files_message(
    data: dict[str, object], message: str
) -> None:
    with pytest.raises(FormError) as caught:
        check_keys(data, FormError)
    assert str(caught.value).startswith(message)


def test_a_file_may_take_only_some_of_the_keys() -> None:
    assert check_keys({"hold": 60, "countdown_from": 3}, FormError, EXTRAS) == {
        "hold": 60.0,
        "countdown_from": 3,
    }
    with pytest.raises(FormError, match="unknown key 'rate'; valid keys: background, breaths"):
        check_keys({"rate": 120}, FormError, EXTRAS)
    assert tuple(keys_model(EXTRAS).model_fields) == EXTRAS
    assert tuple(keys_model().model_fields) == FILE_KEYS


def test_keys_make_a_sessions_options_with_paths_relative_to_the_base(tmp_path: Path) -> None:
    values = check_keys(
        {"routine": "mine.yaml", "hold": "2m", "voice_model": "alan.onnx", "rate": 120,
         "start_chime": "bell.wav", "background": "none", "countdown_from": 4},
        FormError,
    )  # fmt: skip
    options = options_from_keys(values, tmp_path)
    assert options.routine == tmp_path / "mine.yaml"
    assert (options.hold, options.rate, options.engine) == (120.0, 120, "piper")
    assert options.voice_model == tmp_path / "alan.onnx"
    change = options.extras_change
    assert change.start_chime == tmp_path / "bell.wav"
    assert (change.background, change.countdown_from, change.said_as) == ("none", 4, "keys")
    assert change == extras_change(values, tmp_path)
    # Nothing given: the defaults, the routine's extras left alone.
    assert options_from_keys({}, said_as="options") == SessionOptions()


def test_keys_left_out_keep_the_defaults_given() -> None:
    defaults = SessionOptions(hold=60.0, voice="en", rate=100, voice_model=Path("alan.onnx"))
    options = options_from_keys({"rate": 90, "pacer": True}, defaults=defaults)
    assert (options.hold, options.voice, options.rate) == (60.0, "en", 90)
    assert (options.voice_model, options.engine) == (Path("alan.onnx"), "piper")
    assert options.extras_change.pacer is True


def test_every_declared_option_says_what_a_form_needs() -> None:
    keys = [o.key for o in SESSION_OPTIONS]
    assert len(keys) == len(set(keys))
    for option in SESSION_OPTIONS:
        assert option.label
        assert option.help.endswith((".", "per-side.mp3"))
        assert by_key(option.key) is option
        if option.kind in ("int", "number", "volumes"):
            assert option.minimum is not None
            assert option.maximum is not None
            assert option.minimum < option.maximum
        if option.kind in ("choice", "sound", "volumes", "bitrate"):
            assert option.choices, option.key
    defaults = SessionOptions()
    assert by_key("rate").default == defaults.rate
    assert by_key("loudness").default == defaults.loudness
