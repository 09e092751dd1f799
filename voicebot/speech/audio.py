"""Small numpy audio helpers: PCM conversion, resampling and G.711 mu-law.

Python's `audioop` is deprecated (removed in 3.13), so the phone-line codec lives here.
"""

import numpy as np

_MU_LAW_BIAS = 0x84
_MU_LAW_BIAS_14 = 0x21
_MU_LAW_CLIP_14 = 8159
_MU_LAW_SEGMENT_ENDS = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])


def pcm16_to_float(pcm16: np.ndarray | bytes) -> np.ndarray:
    """Little-endian 16-bit PCM (array or bytes) -> float32 in [-1, 1)."""
    samples = np.frombuffer(pcm16, dtype="<i2") if isinstance(pcm16, bytes) else pcm16
    if samples.dtype != np.int16:
        raise TypeError(f"expected int16 samples, got {samples.dtype}")
    return samples.astype(np.float32) / 32768.0


def float_to_pcm16(audio: np.ndarray) -> np.ndarray:
    """float in [-1, 1] -> int16, clipping overshoot."""
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Band-limited resampling of a whole float clip by FFT (like scipy.signal.resample).

    Suited to utterance-sized clips; frequencies above the lower Nyquist rate are cut,
    which is the anti-aliasing filter a phone line applies.
    """
    if from_rate == to_rate or audio.size == 0:
        return audio.astype(np.float32, copy=False)
    out_len = round(audio.size * to_rate / from_rate)
    spectrum = np.fft.rfft(audio.astype(np.float64))
    out_bins = out_len // 2 + 1
    if out_bins <= spectrum.size:
        spectrum = spectrum[:out_bins]
    else:
        spectrum = np.concatenate([spectrum, np.zeros(out_bins - spectrum.size, complex)])
    resampled = np.fft.irfft(spectrum, n=out_len) * (out_len / audio.size)
    return resampled.astype(np.float32)


def mulaw_encode(pcm16: np.ndarray) -> bytes:
    """G.711 mu-law encode int16 samples (one byte per sample), bit-exact with audioop."""
    # Works on 14-bit magnitudes like the ITU reference code (and CPython's audioop).
    value = pcm16.astype(np.int32) >> 2
    mask = np.where(value < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(value), _MU_LAW_CLIP_14) + _MU_LAW_BIAS_14
    segment = np.searchsorted(_MU_LAW_SEGMENT_ENDS, magnitude)
    encoded = (segment << 4) | ((magnitude >> (segment + 1)) & 0x0F)
    encoded = np.where(segment >= 8, 0x7F, encoded)  # beyond the last segment: full scale
    return (encoded ^ mask).astype(np.uint8).tobytes()


def mulaw_decode(data: bytes) -> np.ndarray:
    """G.711 mu-law decode bytes to int16 samples."""
    encoded = ~np.frombuffer(data, dtype=np.uint8).astype(np.int32) & 0xFF
    sign = encoded & 0x80
    exponent = (encoded >> 4) & 0x07
    mantissa = encoded & 0x0F
    magnitude = (((mantissa << 3) + _MU_LAW_BIAS) << exponent) - _MU_LAW_BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


def phone_line(pcm16: np.ndarray, sample_rate: int) -> tuple[np.ndarray, int]:
    """Simulate a telephone leg: resample to 8 kHz, mu-law encode and decode."""
    narrow = float_to_pcm16(resample(pcm16_to_float(pcm16), sample_rate, 8000))
    return mulaw_decode(mulaw_encode(narrow)), 8000
