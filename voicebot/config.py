"""Settings: config/default.toml, then VOICEBOT_<SECTION>__<KEY> environment overrides.

Loaded once at the edge (the CLI or the server) and passed down; library code never reads
the environment itself.
"""

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
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
            voice=_voice(raw.get("voice", {})),
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


def _web(section: Mapping) -> WebSettings:
    web = WebSettings(
        host=str(section.get("host", WebSettings.host)),
        port=int(section.get("port", WebSettings.port)),
        session_minutes=int(section.get("session_minutes", WebSettings.session_minutes)),
        secret=str(section.get("secret", "")),
    )
    if web.session_minutes < 1:
        raise ConfigError("web.session_minutes: must be at least 1")
    return web


def _llm(section: Mapping, environ: Mapping[str, str]) -> LLMSettings:
    key_env = str(section.get("api_key_env", "VOICEBOT_LLM_API_KEY"))
    llm = LLMSettings(
        base_url=str(section.get("base_url", "")).strip(),
        model=str(section.get("model", "")).strip(),
        api_key=environ.get(key_env, ""),
        budget_s=float(section.get("budget_s", LLMSettings.budget_s)),
        notes_timeout_s=float(section.get("notes_timeout_s", LLMSettings.notes_timeout_s)),
    )
    if llm.budget_s <= 0 or llm.notes_timeout_s <= 0:
        raise ConfigError("llm.budget_s and llm.notes_timeout_s: must be more than 0")
    if llm.enabled and not llm.model:
        raise ConfigError("llm.model: required when llm.base_url is set")
    return llm


def _voice(section: Mapping) -> VoiceSettings:
    d = VoiceSettings()
    voice = VoiceSettings(
        asr_model_dir=str(section.get("asr_model_dir", d.asr_model_dir)),
        asr_phrases=_project_path(phrases)
        if (phrases := str(section.get("asr_phrases", d.asr_phrases or "")))
        else None,
        cache_dir=_project_path(str(section.get("cache_dir", d.cache_dir))),
        tts_cache_dir=_project_path(str(section.get("tts_cache_dir", d.tts_cache_dir))),
        recordings_dir=_project_path(str(section.get("recordings_dir", d.recordings_dir))),
        vad_confidence=float(section.get("vad_confidence", d.vad_confidence)),
        vad_start_secs=float(section.get("vad_start_secs", d.vad_start_secs)),
        vad_stop_secs=float(section.get("vad_stop_secs", d.vad_stop_secs)),
        vad_early_stop_secs=float(section.get("vad_early_stop_secs", d.vad_early_stop_secs)),
        vad_min_volume=float(section.get("vad_min_volume", d.vad_min_volume)),
        no_input_timeout_s=float(section.get("no_input_timeout_s", d.no_input_timeout_s)),
        asr_threads=int(section.get("asr_threads", d.asr_threads)),
    )
    if not 0 < voice.vad_stop_secs <= 3 or not 0 < voice.vad_confidence < 1:
        raise ConfigError("voice.vad_stop_secs / voice.vad_confidence: out of range")
    if not 0 <= voice.vad_early_stop_secs < voice.vad_stop_secs:
        raise ConfigError("voice.vad_early_stop_secs: must be 0 (off) or below vad_stop_secs")
    return voice


def _understanding(section: Mapping) -> UnderstandingSettings:
    d = UnderstandingSettings()
    reader = str(section.get("reader", "embedding")).strip()
    if reader not in ("embedding", "rules"):
        raise ValueError(f'understanding.reader: "embedding" or "rules", got {reader!r}')
    return UnderstandingSettings(
        embedding=reader == "embedding",
        cache_dir=_project_path(str(section.get("cache_dir", d.cache_dir))),
    )


def _campaigns(section: Mapping) -> CampaignSettings:
    defaults = CampaignSettings()
    campaigns = CampaignSettings(
        redis_url=str(section.get("redis_url", "")).strip(),
        concurrency=int(section.get("concurrency", defaults.concurrency)),
        retry_no_response_minutes=int(
            section.get("retry_no_response_minutes", defaults.retry_no_response_minutes)
        ),
        retry_voicemail_minutes=int(
            section.get("retry_voicemail_minutes", defaults.retry_voicemail_minutes)
        ),
        dial_lease_seconds=int(section.get("dial_lease_seconds", defaults.dial_lease_seconds)),
        sms_provider=str(section.get("sms_provider", defaults.sms_provider)),
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
