"""Settings: config/default.toml, then VOICEBOT_<SECTION>__<KEY> environment overrides.

Loaded once at the edge (the CLI or the server) and passed down; library code never reads
the environment itself. Every default is written once, in config/default.toml: a key that a
section lacks takes the file's value (`with_defaults`). The dataclasses' own defaults serve
tests that build settings by hand; tests/test_settings_defaults.py holds them to the file.
"""

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "default.toml"
ENV_PREFIX = "VOICEBOT_"


class ConfigError(ValueError):
    """A setting is missing or has the wrong form; the message names it."""


@dataclass(frozen=True)
class LenderSettings:
    name: str
    hotline: str
    repayment_channels: str


@dataclass(frozen=True)
class RuleSettings:
    calling_window_start: time
    calling_window_end: time
    default_timezone: str
    max_connected_calls_per_day: int
    max_attempts_per_day: int
    max_id_attempts: int
    max_silent_turns: int
    retention_years: int


@dataclass(frozen=True)
class WebSettings:
    """The agents' review page (`voicebot serve`)."""

    host: str = "127.0.0.1"
    port: int = 8080
    session_minutes: int = 30  # idle time after which a sign-in expires
    secret: str = ""  # signs CSRF tokens; set VOICEBOT_WEB__SECRET, else random per start


@dataclass(frozen=True)
class LLMSettings:
    """An OpenAI-compatible endpoint for the LLM mode; an empty `base_url` means rules only."""

    base_url: str = ""
    model: str = ""
    api_key: str = field(default="", repr=False)  # read from the variable named api_key_env
    budget_s: float = 1.2  # per borrower turn, after which the rules' answer is used
    notes_timeout_s: float = 8.0  # the after-call notes are not on the borrower's clock

    @property
    def enabled(self) -> bool:
        return bool(self.base_url)


@dataclass(frozen=True)
class SpeechServerSettings:
    """An OpenAI-compatible speech server (`/audio/transcriptions` or `/audio/speech`).

    `timeout_s` is the server's share of a turn: past it the offline engine answers.
    """

    base_url: str = ""  # e.g. http://asr.internal:8000/v1
    model: str = ""
    api_key: str = field(default="", repr=False)  # read from the variable named api_key_env
    timeout_s: float = 1.0
    voice: str = ""  # TTS only: the server's voice name
    response_format: str = "wav"  # TTS only: wav, or pcm (16-bit mono 24 kHz)


ASR_ENGINES = ("offline", "remote")
TTS_ENGINES = ("offline", "edge", "remote")


@dataclass(frozen=True)
class VoiceSettings:
    """The voice pipeline: VAD, speech models, caches and recordings (`--audio` calls)."""

    asr_model_dir: str = ""  # a CTranslate2 Whisper directory; empty: packaged Whisper base
    asr_phrases: Path | None = PROJECT_ROOT / "config" / "asr_phrases.yaml"  # None: no rewrites
    cache_dir: Path = PROJECT_ROOT / "var" / "cache" / "speech"  # assembled/patched models
    tts_cache_dir: Path = PROJECT_ROOT / "var" / "cache" / "tts"  # synthesised sentences
    recordings_dir: Path = PROJECT_ROOT / "var" / "recordings"
    vad_confidence: float = 0.5
    vad_start_secs: float = 0.15
    vad_stop_secs: float = 0.55  # Mandarin pauses at commas; 0.2 split sentences
    vad_early_stop_secs: float = 0.25  # decoding starts after this much quiet (0: off)
    vad_min_volume: float = 0.3
    no_input_timeout_s: float = 5.0
    asr_threads: int = 2
    max_call_s: float = 600.0  # config/default.toml sets it: every line's longest call
    asr: str = "offline"  # or "remote": asr_server, the offline engine as its fallback
    tts: str = "offline"  # or "edge" / "remote": the offline voice as their fallback
    edge_voice: str = "zh-CN-XiaoxiaoNeural"
    edge_timeout_s: float = 1.0  # edge-tts's share of a turn, per clause
    asr_server: SpeechServerSettings = field(default_factory=SpeechServerSettings)
    tts_server: SpeechServerSettings = field(default_factory=SpeechServerSettings)


@dataclass(frozen=True)
class CampaignSettings:
    """Outbound campaigns: the queue, the concurrency and the retry delays by outcome."""

    redis_url: str = ""  # empty: the embedded in-process runner on SQLite
    concurrency: int = 8  # calls in flight per runner or worker
    retry_no_response_minutes: int = 120  # also busy
    retry_voicemail_minutes: int = 240
    dial_lease_seconds: int = 900  # a dialing attempt whose worker is silent this long is lost
    sms_provider: str = "log"  # "log" or "none"


@dataclass(frozen=True)
class UnderstandingSettings:
    """The readers behind the rules: the embedding reader (on unless `reader = "rules"`)."""

    embedding: bool = True
    cache_dir: Path = PROJECT_ROOT / "var" / "cache" / "understanding"  # example vectors


@dataclass(frozen=True)
class Settings:
    lender: LenderSettings
    rules: RuleSettings
    store_path: Path
    prompts_dir: Path
    web: WebSettings = field(default_factory=WebSettings)
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    llm: LLMSettings = field(default_factory=LLMSettings)
    campaigns: CampaignSettings = field(default_factory=CampaignSettings)
    understanding: UnderstandingSettings = field(default_factory=UnderstandingSettings)

    @property
    def understanding_examples(self) -> Path:
        """The embedding reader's labelled examples: reviewed data, like the script."""
        return self.prompts_dir / "understanding_examples.yaml"


def load_settings(
    path: Path = DEFAULT_CONFIG, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read the TOML file, apply environment overrides and validate every value."""
    environ = os.environ if environ is None else environ
    raw = load_sections(path, environ)
    try:
        lender = LenderSettings(**raw["lender"])
        rules = raw["rules"]
        rule_settings = RuleSettings(
            calling_window_start=_clock(rules, "calling_window_start"),
            calling_window_end=_clock(rules, "calling_window_end"),
            default_timezone=str(rules["default_timezone"]),
            max_connected_calls_per_day=int(rules["max_connected_calls_per_day"]),
            max_attempts_per_day=int(rules["max_attempts_per_day"]),
            max_id_attempts=int(rules["max_id_attempts"]),
            max_silent_turns=int(rules["max_silent_turns"]),
            retention_years=int(rules["retention_years"]),
        )
        return Settings(
            lender=lender,
            rules=rule_settings,
            store_path=_project_path(raw["store"]["path"]),
            prompts_dir=_project_path(raw["prompts"]["dir"]),
            web=_web(raw.get("web", {})),
            voice=_voice(raw.get("voice", {}), raw, environ),
            llm=_llm(raw.get("llm", {}), environ),
            campaigns=_campaigns(raw.get("campaigns", {})),
            understanding=_understanding(raw.get("understanding", {})),
        )
    except KeyError as missing:
        raise ConfigError(f"{path}: missing setting {missing}") from None
    except (TypeError, ValueError) as bad:
        raise ConfigError(f"{path}: {bad}") from None


def load_sections(
    path: Path = DEFAULT_CONFIG, environ: Mapping[str, str] | None = None
) -> dict[str, dict]:
    """The TOML file's sections with the environment overrides applied.

    Sections read by their own modules (the phone lines' `[telephony]`, `[twilio]`,
    `[sip]`) are validated there, from this.
    """
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    _apply_overrides(raw, os.environ if environ is None else environ)
    return raw


def with_defaults(name: str, section: Mapping) -> dict:
    """`section` completed from its defaults: the `[name]` section of config/default.toml,
    the one place a setting's default is written."""
    return {**_default_sections().get(name, {}), **section}


@lru_cache(maxsize=1)
def _default_sections() -> dict[str, dict]:
    return tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))


def _web(section: Mapping) -> WebSettings:
    s = with_defaults("web", section)
    web = WebSettings(
        host=str(s["host"]),
        port=int(s["port"]),
        session_minutes=int(s["session_minutes"]),
        secret=str(s["secret"]),
    )
    if web.session_minutes < 1:
        raise ConfigError("web.session_minutes: must be at least 1")
    return web


def _llm(section: Mapping, environ: Mapping[str, str]) -> LLMSettings:
    s = with_defaults("llm", section)
    llm = LLMSettings(
        base_url=str(s["base_url"]).strip(),
        model=str(s["model"]).strip(),
        api_key=environ.get(str(s["api_key_env"]), ""),
        budget_s=float(s["budget_s"]),
        notes_timeout_s=float(s["notes_timeout_s"]),
    )
    if llm.budget_s <= 0 or llm.notes_timeout_s <= 0:
        raise ConfigError("llm.budget_s and llm.notes_timeout_s: must be more than 0")
    if llm.enabled and not llm.model:
        raise ConfigError("llm.model: required when llm.base_url is set")
    return llm


def _speech_server(name: str, section: Mapping, environ: Mapping[str, str]) -> SpeechServerSettings:
    s = with_defaults(name, section)
    server = SpeechServerSettings(
        base_url=str(s["base_url"]).strip(),
        model=str(s["model"]).strip(),
        api_key=environ.get(str(s["api_key_env"]), ""),
        timeout_s=float(s["timeout_s"]),
        # TTS only: [asr_server] has neither (the dataclass's defaults are [tts_server]'s)
        voice=str(s.get("voice", SpeechServerSettings.voice)).strip(),
        response_format=str(s.get("response_format", SpeechServerSettings.response_format)).strip(),
    )
    if server.timeout_s <= 0:
        raise ConfigError(f"{name}.timeout_s: must be more than 0")
    if server.response_format not in ("wav", "pcm"):
        raise ConfigError(f"{name}.response_format: wav or pcm, got {server.response_format!r}")
    return server


def _speech_engines(voice: VoiceSettings) -> None:
    """The chosen engines exist and a remote one has its server configured."""
    if voice.asr not in ASR_ENGINES:
        raise ConfigError(f"voice.asr: one of {', '.join(ASR_ENGINES)}, got {voice.asr!r}")
    if voice.tts not in TTS_ENGINES:
        raise ConfigError(f"voice.tts: one of {', '.join(TTS_ENGINES)}, got {voice.tts!r}")
    if voice.asr == "remote" and not (voice.asr_server.base_url and voice.asr_server.model):
        raise ConfigError('asr_server.base_url and model: required when voice.asr = "remote"')
    server = voice.tts_server
    if voice.tts == "remote" and not (server.base_url and server.model and server.voice):
        raise ConfigError(
            'tts_server.base_url, model and voice: required when voice.tts = "remote"'
        )
    if voice.edge_timeout_s <= 0:
        raise ConfigError("voice.edge_timeout_s: must be more than 0")


def _voice(section: Mapping, raw: Mapping, environ: Mapping[str, str]) -> VoiceSettings:
    s = with_defaults("voice", section)
    voice = VoiceSettings(
        asr_model_dir=str(s["asr_model_dir"]),
        asr_phrases=_project_path(phrases) if (phrases := str(s["asr_phrases"])) else None,
        cache_dir=_project_path(str(s["cache_dir"])),
        tts_cache_dir=_project_path(str(s["tts_cache_dir"])),
        recordings_dir=_project_path(str(s["recordings_dir"])),
        vad_confidence=float(s["vad_confidence"]),
        vad_start_secs=float(s["vad_start_secs"]),
        vad_stop_secs=float(s["vad_stop_secs"]),
        vad_early_stop_secs=float(s["vad_early_stop_secs"]),
        vad_min_volume=float(s["vad_min_volume"]),
        no_input_timeout_s=float(s["no_input_timeout_s"]),
        asr_threads=int(s["asr_threads"]),
        max_call_s=float(s["max_call_s"]),
        asr=str(s["asr"]).strip(),
        tts=str(s["tts"]).strip(),
        edge_voice=str(s["edge_voice"]).strip(),
        edge_timeout_s=float(s["edge_timeout_s"]),
        asr_server=_speech_server("asr_server", raw.get("asr_server", {}), environ),
        tts_server=_speech_server("tts_server", raw.get("tts_server", {}), environ),
    )
    _speech_engines(voice)
    if not 0 < voice.vad_stop_secs <= 3 or not 0 < voice.vad_confidence < 1:
        raise ConfigError("voice.vad_stop_secs / voice.vad_confidence: out of range")
    if not voice.max_call_s > 0:
        raise ConfigError("voice.max_call_s: must be more than 0")
    if not 0 <= voice.vad_early_stop_secs < voice.vad_stop_secs:
        raise ConfigError("voice.vad_early_stop_secs: must be 0 (off) or below vad_stop_secs")
    return voice


def _understanding(section: Mapping) -> UnderstandingSettings:
    s = with_defaults("understanding", section)
    reader = str(s["reader"]).strip()
    if reader not in ("embedding", "rules"):
        raise ValueError(f'understanding.reader: "embedding" or "rules", got {reader!r}')
    return UnderstandingSettings(
        embedding=reader == "embedding",
        cache_dir=_project_path(str(s["cache_dir"])),
    )


def _campaigns(section: Mapping) -> CampaignSettings:
    s = with_defaults("campaigns", section)
    campaigns = CampaignSettings(
        redis_url=str(s["redis_url"]).strip(),
        concurrency=int(s["concurrency"]),
        retry_no_response_minutes=int(s["retry_no_response_minutes"]),
        retry_voicemail_minutes=int(s["retry_voicemail_minutes"]),
        dial_lease_seconds=int(s["dial_lease_seconds"]),
        sms_provider=str(s["sms_provider"]),
    )
    if campaigns.concurrency < 1:
        raise ConfigError("campaigns.concurrency: must be at least 1")
    if campaigns.sms_provider not in ("log", "none"):
        raise ConfigError("campaigns.sms_provider: must be log or none")
    return campaigns


def _apply_overrides(raw: dict, environ: Mapping[str, str]) -> None:
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, key = name[len(ENV_PREFIX) :].lower().split("__", 1)
        raw.setdefault(section, {})[key] = value


def _clock(section: Mapping, key: str) -> time:
    try:
        return time.fromisoformat(str(section[key]))
    except ValueError:
        raise ConfigError(f"rules.{key}: expected HH:MM, got {section[key]!r}") from None


def _project_path(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else PROJECT_ROOT / path
