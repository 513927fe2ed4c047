"""The meter's loudness measured on a thread of its own, beside the true peak
(voiceguide/encode/meter.py): the same figures to the bit, and errors that reach
the caller with the thread stopped."""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest

from voiceguide.encode import bs1770, meter
from voiceguide.encode.truepeak import BLOCK
from voiceguide.units import SAMPLE_RATE


def floats(seconds: float, seed: int = 5) -> bytes:
    """Noise bursts and digital silence, as the float bytes a decoder gives. A click
    leads, so that the true peak need look at little more (and the loudness, the
    slower, has work queued)."""
    rng = np.random.default_rng(seed)
    samples = rng.standard_normal(int(seconds * SAMPLE_RATE)).clip(-4, 4) * 0.2
    samples[(np.arange(len(samples)) // SAMPLE_RATE) % 3 == 2] = 0.0  # every third second
    samples[0] = 0.99
    return samples.astype("<f4").tobytes()


def loudness_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "loudness"]


@pytest.mark.parametrize("gaps", [(), ((5 * SAMPLE_RATE, 3 * SAMPLE_RATE),)], ids=["", "gap"])
def test_loudness_beside_the_true_peak_is_the_same_to_the_bit(
    gaps: tuple[tuple[int, int], ...],
) -> None:
    data = floats(20.0)
    alone, peak = meter._stream_measure(io.BytesIO(data), 1, SAMPLE_RATE, gaps)
    beside, peak_beside = meter._stream_measure(io.BytesIO(data), 1, SAMPLE_RATE, gaps, True)
    assert np.array_equal(beside.steps, alone.steps)
    assert beside.length == alone.length == 20 * SAMPLE_RATE + sum(n for _, n in gaps)
    assert peak_beside == peak >= 0.99
    assert beside.integrated() == alone.integrated() > -30.0
    assert not loudness_threads()


BLOCKS = -(-30 * SAMPLE_RATE // BLOCK)  # in 30 s


@pytest.mark.parametrize("at", [3, BLOCKS], ids=["early", "last"])
def test_an_error_in_the_loudness_reaches_the_caller_and_stops_the_thread(
    monkeypatch: pytest.MonkeyPatch, at: int
) -> None:
    calls = 0
    add = bs1770.StreamMeter.add

    def failing(self: bs1770.StreamMeter, samples: np.ndarray) -> None:
        nonlocal calls
        calls += 1
        if calls == at:
            time.sleep(0.2)  # the reader queues blocks meanwhile, as many as it may
            raise MemoryError("no room for the block")
        add(self, samples)

    monkeypatch.setattr(bs1770.StreamMeter, "add", failing)
    reader = Counted(floats(30.0))
    with pytest.raises(MemoryError, match="no room"):
        meter._stream_measure(reader, 1, SAMPLE_RATE, (), True)
    assert calls == at  # the blocks after the error are not weighed
    # The reader stops soon after: the blocks queued, and one or two more.
    assert reader.reads <= min(at + meter._Beside.QUEUED + 2, BLOCKS + 1)
    assert not loudness_threads()


class Counted(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads = 0

    def read(self, size: int | None = -1, /) -> bytes:
        self.reads += 1
        return super().read(size)


class Damaged(io.BytesIO):
    """A decoder that meets damage after a few blocks."""

    def __init__(self, data: bytes, blocks: int) -> None:
        super().__init__(data)
        self.blocks = blocks

    def read(self, size: int | None = -1, /) -> bytes:
        self.blocks -= 1
        if self.blocks < 0:
            raise RuntimeError("Error reading the file: damaged")
        return super().read(size)


def test_an_error_in_the_reader_is_raised_as_it_is_and_stops_the_thread() -> None:
    with pytest.raises(RuntimeError, match="damaged"):
        meter._stream_measure(Damaged(floats(30.0), 4), 1, SAMPLE_RATE, (), True)
    assert not loudness_threads()
