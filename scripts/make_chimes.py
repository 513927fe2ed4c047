"""Regenerate the chime sounds in audio_assets/ (reproducibly: no randomness).

Each chime is additive synthesis of a struck bowl: a few inharmonic partials,
each a slowly beating pair, with a soft attack and an exponential decay.

    python scripts/make_chimes.py [--out audio_assets]

The start chime is one strike; the end chime is two strikes falling a fifth,
so the two can be told apart without looking.
"""

from __future__ import annotations

import argparse
import math
import struct
import wave
from pathlib import Path

RATE = 44100
PEAK = 10 ** (-18 / 20)  # -18 dBFS: 3-5 LU under the voice once levelled; never startles
ATTACK = 0.004  # seconds
FADE_OUT = 0.5  # seconds at the end, down to exact zero
# (frequency ratio, amplitude, decay time in seconds) of a small singing bowl
PARTIALS = ((1.0, 1.0, 1.7), (2.76, 0.42, 0.9), (5.40, 0.16, 0.4), (8.93, 0.06, 0.2))
BEAT_HZ = 1.3  # each partial is a pair this far apart, for a gentle shimmer


def strike(frequency: float, seconds: float, gain: float = 1.0) -> list[float]:
    out = []
    for n in range(int(seconds * RATE)):
        t = n / RATE
        attack = 0.5 - 0.5 * math.cos(math.pi * t / ATTACK) if t < ATTACK else 1.0
        value = 0.0
        for ratio, amplitude, decay in PARTIALS:
            f = frequency * ratio
            envelope = amplitude * math.exp(-t / decay)
            value += envelope * (
                math.sin(2 * math.pi * f * t) + 0.5 * math.sin(2 * math.pi * (f + BEAT_HZ) * t)
            )
        out.append(gain * attack * value)
    return out


def mix(length: float, *parts: tuple[float, list[float]]) -> list[float]:
    out = [0.0] * int(length * RATE)
    for offset, part in parts:
        start = int(offset * RATE)
        for i, value in enumerate(part[: len(out) - start]):
            out[start + i] += value
    return out


def finish(signal: list[float]) -> list[int]:
    fade = int(FADE_OUT * RATE)
    for i in range(fade):
        signal[len(signal) - fade + i] *= 0.5 + 0.5 * math.cos(math.pi * i / fade)
    scale = PEAK / max(abs(v) for v in signal)
    return [round(v * scale * 32767) for v in signal]


def write(path: Path, values: list[int]) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(struct.pack(f"<{len(values)}h", *values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent.parent / "audio_assets")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    d5, g5, c5 = 587.33, 783.99, 523.25
    write(out / "chime-start.wav", finish(mix(3.0, (0.0, strike(d5, 3.0)))))
    write(
        out / "chime-end.wav",
        finish(mix(3.4, (0.0, strike(g5, 3.4, 0.8)), (0.42, strike(c5, 3.0)))),
    )
    print(f"wrote {out / 'chime-start.wav'} and {out / 'chime-end.wav'}")


if __name__ == "__main__":
    main()
