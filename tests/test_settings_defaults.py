"""Every setting has one default, in config/default.toml.

Each field of a settings dataclass is read from a key of its section in the file, and a
default the dataclass keeps (for tests that build settings by hand) is the file's value.
A new setting without its line in the file, or a default that drifts from it, fails here.
"""

from dataclasses import MISSING, Field, fields, is_dataclass
from pathlib import Path
from typing import Any

import pytest

from telephony.settings import telephony_settings, twilio_settings
from telephony.sip.settings import sip_settings
from voicebot.config import PROJECT_ROOT, load_sections, load_settings

FILE = load_sections(environ={})  # config/default.toml alone, no environment
SETTINGS = load_settings(environ={})

# Fields read from a key of another name: a secret from the variable the key names, a
# choice that becomes a flag.
SOURCE_KEYS = {
    ("llm", "api_key"): "api_key_env",
    ("sip", "password"): "password_env",
    ("understanding", "embedding"): "reader",
    ("asr_server", "api_key"): "api_key_env",
    ("tts_server", "api_key"): "api_key_env",
}
# Fields of a dataclass shared by two sections that only one of them uses.
UNUSED_IN_SECTION = {("asr_server", "voice"), ("asr_server", "response_format")}
# Top-level settings that are single keys of their own sections.
TOP_LEVEL_KEYS = {"store_path": ("store", "path"), "prompts_dir": ("prompts", "dir")}


def _sections() -> list[tuple[str, Any]]:
    """(section name, the settings read from it), nested sections included."""
    found: list[tuple[str, Any]] = [
        ("telephony", telephony_settings(FILE["telephony"])),
        ("twilio", twilio_settings(FILE["twilio"])),
        ("sip", sip_settings(FILE["sip"], {})),
    ]
    pending = [(f.name, getattr(SETTINGS, f.name)) for f in fields(SETTINGS)]
    while pending:
        name, value = pending.pop()
        if is_dataclass(value):
            found.append((name, value))
            pending += [(f.name, getattr(value, f.name)) for f in fields(value)]
    return found


def _default(field: Field) -> Any:
    if field.default is not MISSING:
        return field.default
    if field.default_factory is not MISSING:
        return field.default_factory()
    return MISSING


SECTIONS = _sections()


@pytest.mark.parametrize(("section", "settings"), SECTIONS, ids=[name for name, _ in SECTIONS])
def test_every_field_has_its_default_in_the_file(section: str, settings: Any) -> None:
    assert section in FILE, f"[{section}] is missing from config/default.toml"
    keys = set(FILE[section])
    for field in fields(settings):
        value = getattr(settings, field.name)
        if is_dataclass(value):
            continue  # a section of its own, checked on its own
        if (section, field.name) in UNUSED_IN_SECTION:
            continue
        key = SOURCE_KEYS.get((section, field.name), field.name)
        assert key in keys, f"{section}.{key}: no default in config/default.toml"
        keys.discard(key)
        default = _default(field)
        if default is not MISSING and key == field.name:
            assert default == value, (
                f"{section}.{field.name}: the dataclass says {default!r},"
                f" config/default.toml {FILE[section][key]!r}"
            )
    nested = {f.name for f in fields(settings) if is_dataclass(getattr(settings, f.name))}
    assert keys <= nested, f"[{section}] keys that no setting reads: {sorted(keys - nested)}"


def test_top_level_paths_come_from_the_file() -> None:
    for name, (section, key) in TOP_LEVEL_KEYS.items():
        assert getattr(SETTINGS, name) == PROJECT_ROOT / FILE[section][key]


def test_every_section_of_the_file_is_read() -> None:
    read = {name for name, _ in SECTIONS} | {s for s, _ in TOP_LEVEL_KEYS.values()}
    assert set(FILE) <= read, f"sections nothing reads: {sorted(set(FILE) - read)}"


def test_a_file_that_omits_a_section_gets_the_defaults_of_config_default_toml(
    tmp_path: Path,
) -> None:
    required = {name: FILE[name] for name in ("lender", "rules", "store", "prompts")}
    path = tmp_path / "voicebot.toml"
    path.write_text(
        "\n".join(
            f"[{name}]\n" + "\n".join(f"{key} = {value!r}" for key, value in section.items())
            for name, section in required.items()
        ),
        encoding="utf-8",
    )
    assert load_settings(path, environ={}) == SETTINGS
    assert sip_settings({}, {}) == sip_settings(FILE["sip"], {})
    assert twilio_settings({}) == twilio_settings(FILE["twilio"])
    assert (
        telephony_settings({"max_calls": 7}).media_timeout_s == FILE["telephony"]["media_timeout_s"]
    )
