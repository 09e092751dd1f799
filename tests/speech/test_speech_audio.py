"""Numpy audio helpers: resampling and G.711 mu-law."""

import warnings

import numpy as np
import pytest

from voicebot.speech.audio import mulaw_decode, mulaw_encode, phone_line, resample


def test_mulaw_matches_the_standard_codec() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop")
    samples = np.arange(-32768, 32768, 7, dtype=np.int16)
    encoded = mulaw_encode(samples)
    assert encoded == audioop.lin2ulaw(samples.tobytes(), 2)
    assert mulaw_decode(encoded).tobytes() == audioop.ulaw2lin(encoded, 2)


def test_resample_keeps_a_tone_and_cuts_above_nyquist() -> None:
    t = np.arange(24000) / 24000
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    high = (0.5 * np.sin(2 * np.pi * 6000 * t)).astype(np.float32)
    narrow = resample(tone + high, 24000, 8000)
    assert narrow.size == 8000
    expected = 0.5 * np.sin(2 * np.pi * 440 * np.arange(8000) / 8000)
    assert np.max(np.abs(narrow - expected)) < 0.01


def test_phone_line_returns_8k_int16() -> None:
    pcm = (np.sin(np.linspace(0, 200, 16000)) * 8000).astype(np.int16)
    out, rate = phone_line(pcm, 16000)
    assert rate == 8000 and out.dtype == np.int16 and out.size == 8000
