"""Phase-1 measurement: which resampler brings sound into the 44.1 kHz session cleanly.

Run: /work/main/.venv/bin/python staging/bench_resamplers.py  (from the worktree)
"""

from __future__ import annotations

import hashlib
import io
import math
import subprocess
import sys
import time
import wave
from collections.abc import Callable

import numpy as np
import soxr
from pydub import AudioSegment

OUT = 44100
HERE = __file__.rsplit("/", 1)[0]


def read_wav(path: str) -> tuple[np.ndarray, int]:
    with wave.open(path) as w:
        rate = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return data.astype(np.float64) / 32768, rate


def pcm16(x: np.ndarray) -> bytes:
    return np.clip(np.round(x * 32768), -32768, 32767).astype("<i2").tobytes()


def target_length(n: int, rate: int) -> int:
    return (n * OUT + rate // 2) // rate  # round half up, integers only


def fit(y: np.ndarray, n: int) -> np.ndarray:
    return y[:n] if len(y) >= n else np.concatenate([y, np.zeros(n - len(y))])


# --- candidates -----------------------------------------------------------------------------


def by_pydub(x: np.ndarray, rate: int) -> np.ndarray:
    seg = AudioSegment(pcm16(x), sample_width=2, frame_rate=rate, channels=1).set_frame_rate(OUT)
    return np.frombuffer(seg.raw_data, dtype="<i2").astype(np.float64) / 32768


def by_ffmpeg(options: str) -> Callable[[np.ndarray, int], np.ndarray]:
    def run(x: np.ndarray, rate: int) -> np.ndarray:
        cmd = ["ffmpeg", "-v", "error", "-f", "f64le", "-ar", str(rate), "-ac", "1", "-i", "-",
               "-af", f"aresample={OUT}{options}", "-f", "f64le", "-"]  # fmt: skip
        done = subprocess.run(cmd, input=x.astype("<f8").tobytes(), capture_output=True, check=True)
        return np.frombuffer(done.stdout, dtype="<f8")

    return run


def by_soxr(quality: str) -> Callable[[np.ndarray, int], np.ndarray]:
    def run(x: np.ndarray, rate: int) -> np.ndarray:
        return np.asarray(soxr.resample(x, rate, OUT, quality=quality))

    return run


def by_sinc(x: np.ndarray, rate: int, zeros: int = 64, beta: float = 10.0) -> np.ndarray:
    """Hand-written Kaiser-windowed sinc, polyphase (rational ratio)."""
    g = math.gcd(rate, OUT)
    up, down = OUT // g, rate // g
    c = min(1.0, OUT / rate) * (1 - 1.0 / zeros * 3.2)  # cutoff, of the lower Nyquist
    half = math.ceil(zeros / c)  # taps each side, in input samples
    offsets = np.arange(-half + 1, half + 1)  # n - floor(t)
    frac = np.arange(up) / up  # t - floor(t) for each phase
    u = offsets[None, :] - frac[:, None]  # n - t
    w = np.i0(beta * np.sqrt(np.clip(1 - (u / half) ** 2, 0, None))) / np.i0(beta)
    table = c * np.sinc(c * u) * w
    n_out = target_length(len(x), rate)
    m = np.arange(n_out, dtype=np.int64)
    base = (m * down) // up
    phase = (m * down) % up
    padded = np.concatenate([np.zeros(half), x, np.zeros(2 * half + 2)])
    y = np.empty(n_out)
    step = 8192
    for s in range(0, n_out, step):
        b, p = base[s : s + step], phase[s : s + step]
        idx = b[:, None] + offsets[None, :] + half
        y[s : s + step] = np.einsum("ij,ij->i", padded[idx], table[p])
    return y


CANDIDATES: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "pydub set_frame_rate (today)": by_pydub,
    "ffmpeg swr default": by_ffmpeg(""),
    "ffmpeg soxr precision=28": by_ffmpeg(":resampler=soxr:precision=28"),
    "python-soxr HQ": by_soxr("HQ"),
    "python-soxr VHQ": by_soxr("VHQ"),
    "numpy windowed sinc": by_sinc,
}

# --- measures -----------------------------------------------------------------------------


def above(y: np.ndarray, hz: float, rate: int = OUT) -> float:
    """Energy above ``hz`` relative to the whole, in dB (Hann-windowed periodogram)."""
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2
    f = np.fft.rfftfreq(len(y), 1 / rate)
    return 10 * math.log10(spec[f > hz].sum() / spec.sum() + 1e-30)


def band_ratio(y: np.ndarray, lo: float, hi: float, ref: float) -> float:
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2
    f = np.fft.rfftfreq(len(y), 1 / OUT)
    return 10 * math.log10(spec[(f > lo) & (f < hi)].sum() / ref + 1e-30)


def mp3_roundtrip(y: np.ndarray) -> np.ndarray:
    enc = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "s16le", "-ar", str(OUT), "-ac", "1", "-i", "-",
         "-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3", "-"],
        input=pcm16(y), capture_output=True, check=True)  # fmt: skip
    dec = subprocess.run(["ffmpeg", "-v", "error", "-i", "-", "-f", "s16le", "-"],
                         input=enc.stdout, capture_output=True, check=True)  # fmt: skip
    return np.frombuffer(dec.stdout, dtype="<i2").astype(np.float64) / 32768


def timed(fn: Callable[[np.ndarray, int], np.ndarray], x: np.ndarray, rate: int) -> tuple[np.ndarray, float]:
    best = math.inf
    for _ in range(3):
        t = time.perf_counter()
        y = fn(x, rate)
        best = min(best, time.perf_counter() - t)
    return y, best / (len(x) / rate) * 1000  # ms per second of audio


def main() -> None:
    speech, rate = read_wav(f"{HERE}/speech22.wav")
    speech -= speech.mean()
    assert rate == 22050
    print(f"## 1. espeak-ng speech, 22,050 -> 44,100 ({len(speech)} samples)")
    print("| resampler | >11.5 kHz | >11.5 kHz after MP3 128k | ms per s of audio | length | repeat-identical |")
    print("|---|---:|---:|---:|---:|---|")
    for name, fn in CANDIDATES.items():
        y, ms = timed(fn, speech, rate)
        again = fn(speech, rate)
        same = hashlib.sha256(pcm16(y)).digest() == hashlib.sha256(pcm16(again)).digest()
        y16 = np.frombuffer(pcm16(y), dtype="<i2") / 32768
        print(f"| {name} | {above(y16, 11500):.1f} dB | {above(mp3_roundtrip(y16), 11500):.1f} dB "
              f"| {ms:.1f} | {len(y)} (ours {target_length(len(speech), rate)}) | {same} |")

    # Speech-like band-limited noise at each rate: content to 0.9 of the source Nyquist.
    rng = np.random.RandomState(1)
    print("\n## 2. Up-sampling: band-limited noise (to 0.9 x source Nyquist), 4 s;"
          " energy above the source Nyquist relative to all")
    print("| source rate | " + " | ".join(CANDIDATES) + " |")
    print("|---|" + "---:|" * len(CANDIDATES))
    for r in (8000, 16000, 22050, 24000, 32000):
        n = 4 * r
        spec = np.fft.rfft(rng.standard_normal(n))
        spec[np.fft.rfftfreq(n, 1 / r) > 0.45 * r] = 0
        x = np.fft.irfft(spec, n)
        x *= 0.25 / np.sqrt(np.mean(x**2)) * np.hanning(n) ** 0.1
        cells = []
        for name, fn in CANDIDATES.items():
            y = fn(x, r)
            cells.append(f"{above(y, r / 2):.1f}")
        print(f"| {r} | " + " | ".join(cells) + " |")

    print("\n## 3. Down-sampling: a tone above 22.05 kHz must vanish (alias level, dB re the tone)")
    print("| source rate, tone | " + " | ".join(CANDIDATES) + " |")
    print("|---|" + "---:|" * len(CANDIDATES))
    for r, f in ((48000, 23000.0), (96000, 30000.0), (96000, 23000.0)):
        n = 2 * r
        t = np.arange(n) / r
        x = 0.5 * np.sin(2 * np.pi * f * t) * np.hanning(n)
        ref = np.sum(np.abs(np.fft.rfft(x * np.hanning(n))) ** 2) * OUT / r
        cells = []
        for name, fn in CANDIDATES.items():
            y = fn(x, r)
            spec = np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2
            cells.append(f"{10 * math.log10(spec.sum() / ref + 1e-30):.1f}")
        print(f"| {r}, {f / 1000:g} kHz | " + " | ".join(cells) + " |")

    print("\n## 4. Time, ms per second of audio (60 s of noise), and output length vs ours")
    print("| source rate | " + " | ".join(CANDIDATES) + " |")
    print("|---|" + "---|" * len(CANDIDATES))
    for r in (8000, 16000, 22050, 24000, 32000, 48000, 96000):
        x = rng.standard_normal(60 * r + 7) * 0.1
        cells = []
        for name, fn in CANDIDATES.items():
            if name.startswith("ffmpeg") or name.startswith("pydub"):
                y, ms = timed(fn, x, r)
            else:
                y, ms = timed(fn, x, r)
            cells.append(f"{ms:.1f} ({len(y) - target_length(len(x), r):+d})")
        print(f"| {r} | " + " | ".join(cells) + " |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
