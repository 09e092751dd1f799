"""Mandarin speech recognition with faster-whisper, bounded and biased for phone calls.

Decoding is bounded (greedy, temperature 0, no previous-text conditioning, a token cap)
because unclear audio otherwise makes Whisper loop for many seconds. Each call may carry
a hint of what the bot just asked, which changes the prompt and hotwords: short answers
(对, 是我, four ID digits) are the hardest and matter most.
"""

import asyncio
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np
from opencc import OpenCC

from voicebot.speech.audio import pcm16_to_float, resample
from voicebot.speech.homophones import PhoneticCorrector
from voicebot.speech.whisper_window import Decoded, WindowDecoder

WHISPER_SAMPLE_RATE = 16_000

#: General domain prompt. Simplified Chinese also makes Whisper answer in simplified.
DOMAIN_PROMPT = "以下是普通话的电话录音，关于贷款还款、逾期、罚息、分期、减免和投诉。"

# Hints name what the bot just asked. Any other hint string is taken as the question text.
HINT_YES_NO = "yes_no"
HINT_DIGITS = "digits"
HINT_DATE_AMOUNT = "date_amount"


@dataclass(frozen=True)
class _Bias:
    """Decoding bias for one kind of expected answer."""

    prompt: str
    hotwords: str | None
    max_new_tokens: int
    pad_seconds: float = 0.0  # silence added around the clip


# Measured on the offline voice over a simulated 8 kHz phone line (see tests/speech):
# - yes/no: the domain prompt turned 对 / 不是 into loops or echoes; a bare prompt with
#   hotwords and 0.5 s of silence around the clip recognised 对, 是我, 好的, 不是, 没错.
# - digits: hotwords listing 零…九 made Whisper continue the list (一二三四五六七) and padding
#   cost the first digit; a prompt with one example number read 4 of 5 numbers exactly.
# Example answers in prompts are shorter than the echo threshold, so an answer equal to
# the example is kept. Token caps bound the decode time of loops.
_HINT_BIAS = {
    HINT_YES_NO: _Bias("以下是普通话的电话录音。", "对 是的 是我 不是 好的 嗯 没错", 24, 0.5),
    HINT_DIGITS: _Bias(
        "以下是普通话的电话录音，对方念身份证号码的后四位数字，例如三五零八。", None, 32
    ),
    HINT_DATE_AMOUNT: _Bias(
        "以下是普通话的电话录音，关于还款日期和金额。", "还款 千 百 块 元 号 周 月底 明天", 64
    ),
}

_CHINESE_DIGITS = str.maketrans("零〇一幺二两三四五六七八九", "0011223456789")
_DIGIT_RUN = re.compile(r"[零〇一幺二两三四五六七八九0-9][零〇一幺二两三四五六七八九0-9\s,，、-]*")
_CHAR_LOOP = re.compile(r"(.)\1{3,}")  # one character 4+ times: 塞塞塞塞 is noise, 对对对 is not
# A phrase of 2-8 characters said twice or more: 是我是我是我, 月底还一千月底还一千. Whisper
# loops far more often than people repeat themselves, and 好的好的 means 好的 to the engine.
_UNIT_LOOP = re.compile(r"(.{2,8}?)\1+")
_NOT_TEXT = re.compile(r"[\s，。、！？!?,.;；:：…]+")
_SILENCE_RMS = 10 ** (-55 / 20)  # -55 dBFS: below any speech on a phone line
_NO_SPEECH_PROB = 0.55
# Doubt: the recogniser half-believes there was no speech and either is unsure of its words
# or loops one unit. Measured under the yes/no hint on the line (scripts/measure_doubt.py):
# of 36 pure-noise clips (white, brown, hum, crackle, bursts, breath; 0.6-1.6 s) 19 passed
# the gate above, at 0.40-0.53, every one read as 嗯 x13 at -0.29..-0.40: a confident loop,
# not a low score (嗯嗯, a yes). Of 135 real short answers (是的, 嗯, 对, 是我, ...; three
# noise levels, three tempos) the highest no-speech score was 0.43; above 0.30 each was read
# once, and only two are doubted, both misreadings (嗯 -> 对 at -1.71, 没问题 -> 美纹皮 at -1.04).
DOUBT_NO_SPEECH_PROB = 0.30
DOUBT_AVG_LOGPROB = -1.0
_RAW_LOOP = re.compile(r"(.{1,8}?)\1{3,}")  # one unit said 4+ times: 嗯嗯嗯嗯
# Digits: the most ID characters a second of speech can hold (a brisk reader says about 5).
_DIGITS_PER_SECOND = 8.0
_LONGEST_NUMBER = 18  # digits: an ID number, the longest a borrower reads out
_ECHO_MIN_CHARS = 6  # shorter transcripts ("对", "是我") legitimately overlap the prompt


@dataclass(frozen=True)
class Transcription:
    """Result of one recognition: the kept text and why anything was dropped."""

    text: str
    raw_text: str
    dropped: str | None  # "silence", "no_speech", "doubt", "echo", "loop" or None
    seconds: float
    early: bool = False  # decoded from the speaker's first pause, before the turn ended
    uncorrected: str = ""  # the kept text before near-homophones were rewritten
    engine: str = "offline"  # who answered: "offline" (Whisper here) or "remote" (a server)
    fallback: str | None = None  # why the remote did not: "down", "timeout", "error"
    no_speech_prob: float | None = None  # the recogniser's own scores, when it gives them
    avg_logprob: float | None = None

    @property
    def unclear(self) -> bool:
        """Something was said but the recogniser doubts what: ask again, do not guess."""
        return self.dropped == "doubt"


class Recognizer(Protocol):
    """Anything that turns one utterance into a `Transcription` without blocking the loop."""

    async def recognize(
        self, pcm16: np.ndarray, sample_rate: int, hint: str | None, names: Sequence[str]
    ) -> Transcription: ...


@lru_cache(maxsize=1)
def _t2s() -> OpenCC:
    return OpenCC("t2s")


def _bare(text: str) -> str:
    return _NOT_TEXT.sub("", text)


def is_prompt_echo(text: str, prompt: str) -> bool:
    """True when the transcript is (mostly) the prompt read back, not the caller."""
    bare, bare_prompt = _bare(text), _bare(prompt)
    if len(bare) < _ECHO_MIN_CHARS:
        return False
    if bare in bare_prompt:
        return True
    match = SequenceMatcher(None, bare, bare_prompt).find_longest_match()
    return match.size >= 0.6 * len(bare)


def drop_echoed_tail(text: str, prompt: str) -> str:
    """`text` without trailing clauses read back from the prompt.

    Whisper sometimes continues a real answer with the prompt's last words: 我想办分期，
    分12期，减免和投诉。 Clauses shorter than four characters (还款) are the caller's.
    """
    clauses = re.split(r"(?<=[，。、！？!?,.;；])", text)
    bare_prompt = _bare(prompt)
    while len(clauses) > 1:
        tail = _bare(clauses[-1])
        if tail and (len(tail) < 4 or tail not in bare_prompt):
            break
        clauses.pop()
    return "".join(clauses)


def is_repetition_loop(text: str, allow_digits: bool = False) -> bool:
    """True for a decoder loop on one character, such as 塞塞塞塞 (noise, not an answer).

    With `allow_digits`, repeated digits (an ID such as 1111) are not a loop.
    """
    for match in _CHAR_LOOP.finditer(_bare(text)):
        if allow_digits and match.group(1).isdigit() and len(match.group()) <= _LONGEST_NUMBER:
            continue
        return True
    return False


def collapse_repetitions(text: str, allow_digits: bool = False) -> str:
    """Say a repeated phrase once: "是我 是我 是我 是" -> "是我".

    Whisper loops on a short answer and often stops inside the next copy; that partial
    copy goes too. A loop at the end on words said earlier in the answer goes entirely.
    Text without such a loop is returned unchanged (punctuation included).
    With `allow_digits`, digit groups (an ID read as 1212 12) are left alone, unless they
    run longer than any number a caller reads (3508350835083508350 is a loop on 3508).
    """
    bare = _bare(text)
    collapsed = _collapse_once(bare, allow_digits)
    if collapsed == bare:
        return text
    while (again := _collapse_once(collapsed, allow_digits)) != collapsed:
        collapsed = again  # a loop inside a loop: 公司公司公司一直拖欠公司一直拖欠
    return collapsed


def _collapse_once(bare: str, allow_digits: bool) -> str:
    out: list[str] = []
    pos = 0
    for match in _UNIT_LOOP.finditer(bare):
        unit = match.group(1)
        end = match.end() + _partial_copy(bare, match.end(), unit)
        if allow_digits and unit.isdigit() and end - match.start() <= _LONGEST_NUMBER:
            continue
        # A loop that runs to the end, on words already said, is the decoder repeating
        # the answer's last words until its token cap: 月底还一千 月底 月底 月底 月.
        echoed = end == len(bare) and unit in bare[: match.start()]
        out += [bare[pos : match.start()], "" if echoed else unit]
        pos = end
    return "".join([*out, bare[pos:]])


def _partial_copy(text: str, at: int, unit: str) -> int:
    """Length of the longest proper prefix of `unit` found at `at` (a loop cut short)."""
    return next((k for k in range(len(unit) - 1, 0, -1) if text.startswith(unit[:k], at)), 0)


def is_doubted(raw: str, no_speech_prob: float, avg_logprob: float) -> bool:
    """Whether the recogniser doubts its own reading (`DOUBT_NO_SPEECH_PROB` above)."""
    if no_speech_prob < DOUBT_NO_SPEECH_PROB:
        return False
    return avg_logprob < DOUBT_AVG_LOGPROB or bool(_RAW_LOOP.search(_bare(raw)))


def too_many_digits(text: str, seconds: float) -> bool:
    """A digit reading longer than `seconds` of speech could hold: a decoder loop."""
    return sum(c.isdigit() or c == "X" for c in text) > seconds * _DIGITS_PER_SECOND


def _doubts_short_answer(
    hint: str | None, raw: str, text: str, decoded: Decoded, speech_s: float
) -> bool:
    """Only short answers are doubted: the scores were measured on them, and there one
    misheard word (嗯嗯, a digit) steers the call; longer answers are kept as before."""
    if hint not in (HINT_YES_NO, HINT_DIGITS):
        return False
    if is_doubted(raw, decoded.no_speech_prob, decoded.avg_logprob):
        return True
    return hint == HINT_DIGITS and too_many_digits(text, speech_s)


def digits_only(text: str) -> str:
    """Write spoken digit runs as Arabic digits: "一二三四" / "12 34" -> "1234"."""

    def _to_digits(match: re.Match[str]) -> str:
        run = re.sub(r"[\s,，、-]", "", match.group())
        return run.translate(_CHINESE_DIGITS) if len(run) >= 2 or run.isdigit() else run

    return _DIGIT_RUN.sub(_to_digits, text)


def is_silent(audio: np.ndarray) -> bool:
    """True for a float clip with nothing to hear (Whisper invents text for silence)."""
    return audio.size == 0 or float(np.sqrt(np.mean(np.square(audio)))) < _SILENCE_RMS


def clean_transcript(
    raw: str,
    bias: _Bias,
    hint: str | None,
    names: Sequence[str] = (),
    corrector: PhoneticCorrector | None = None,
) -> tuple[str, str, str | None]:
    """What a recogniser heard, made usable: (kept text, text before corrections, dropped).

    Simplified characters, digit answers as digits, echoes of the prompt and decoder loops
    dropped, near-homophones of the domain's phrases rewritten. Used for the local decode
    and for a remote server's answer alike.
    """
    text = _t2s().convert(raw)
    if hint == HINT_DIGITS:
        text = digits_only(text)
    text = drop_echoed_tail(text, bias.prompt)
    heard = text = collapse_repetitions(text, allow_digits=hint == HINT_DIGITS)
    if corrector is not None and hint != HINT_DIGITS:
        text = corrector.correct(text, names)
    dropped = None
    if not raw:
        dropped = "no_speech"
    elif is_prompt_echo(text, bias.prompt) or is_prompt_echo(text, bias.hotwords or ""):
        dropped = "echo"
    elif is_repetition_loop(text, allow_digits=hint == HINT_DIGITS):
        dropped = "loop"
    return ("", "", dropped) if dropped else (text, heard, None)


def bias_for(hint: str | None, domain_prompt: str, max_new_tokens: int) -> _Bias:
    """The prompt, hotwords and token cap used for a hint."""
    if hint is None:
        return _Bias(domain_prompt, None, max_new_tokens)
    if hint in _HINT_BIAS:
        return _HINT_BIAS[hint]
    # Free-text hint: the bot's own question sets the context for the answer.
    return _Bias(f"{domain_prompt}客服问：{hint}", None, max_new_tokens)


class Transcriber:
    """Transcribe one utterance of Mandarin phone audio to simplified Chinese text."""

    def __init__(
        self,
        model_dir: Path,
        *,
        cpu_threads: int = 2,
        workers: int = 1,
        max_new_tokens: int = 96,
        domain_prompt: str = DOMAIN_PROMPT,
        corrector: PhoneticCorrector | None = None,
    ) -> None:
        """Load a CTranslate2 Whisper model from a local directory (int8 on CPU).

        `workers` decodes may run at once (simultaneous calls), each on `cpu_threads`
        threads; with one worker a second call's decode waits for the first. Measured on
        2 cores with two calls decoding together (30 s windows, before `WindowDecoder`):
        1 thread x 2 workers took 2.0 s a decode, 2 threads x 1 worker 3.1 s, 2 x 2
        (oversubscribed) 3.8 s.
        `max_new_tokens` bounds decode time on unintelligible audio; 96 tokens is well
        above one spoken sentence. `corrector` rewrites near-homophones of the domain's
        phrases (and the borrower's name) in what was heard; digit answers are left alone.
        """
        from faster_whisper import WhisperModel  # heavy import, deferred to construction

        self.model = WhisperModel(
            str(model_dir),
            device="cpu",
            compute_type="int8",
            cpu_threads=cpu_threads,
            num_workers=workers,
        )
        self._window = WindowDecoder(self.model)
        self._max_new_tokens = max_new_tokens
        self._domain_prompt = domain_prompt
        self._corrector = corrector

    def transcribe(
        self,
        pcm16: np.ndarray | bytes,
        sample_rate: int,
        hint: str | None = None,
        names: Sequence[str] = (),
    ) -> str:
        """Text of the utterance, or "" when nothing trustworthy was heard.

        `pcm16` is mono 16-bit PCM at `sample_rate` (8 kHz phone audio is fine).
        `hint` is what the bot just asked: `HINT_YES_NO`, `HINT_DIGITS`,
        `HINT_DATE_AMOUNT`, or the question text itself. `names` are people the caller
        may name (the borrower), written as the account spells them when heard.
        """
        return self.transcribe_detailed(pcm16, sample_rate, hint, names).text

    def transcribe_detailed(
        self,
        pcm16: np.ndarray | bytes,
        sample_rate: int,
        hint: str | None = None,
        names: Sequence[str] = (),
    ) -> Transcription:
        """Like `transcribe`, also returning the raw text, drop reason and decode time."""
        started = time.perf_counter()
        audio = resample(pcm16_to_float(pcm16), sample_rate, WHISPER_SAMPLE_RATE)
        if is_silent(audio):
            return Transcription("", "", "silence", time.perf_counter() - started)
        bias = bias_for(hint, self._domain_prompt, self._max_new_tokens)
        if bias.pad_seconds:
            pad = np.zeros(int(bias.pad_seconds * WHISPER_SAMPLE_RATE), dtype=np.float32)
            audio = np.concatenate([pad, audio, pad])
        decoded = self._window.decode(
            audio, bias.prompt, bias.hotwords, bias.max_new_tokens, digits=hint == HINT_DIGITS
        )
        # Whisper's own no-speech gate is off (it dropped clear short answers); this one is
        # tuned on the offline voice at 8 kHz: answers scored 0.05-0.43, noise 0.57-0.95.
        raw = decoded.text if decoded.no_speech_prob < _NO_SPEECH_PROB else ""
        text, heard, dropped = clean_transcript(raw, bias, hint, names, self._corrector)
        speech_s = audio.size / WHISPER_SAMPLE_RATE - 2 * bias.pad_seconds
        if raw and _doubts_short_answer(hint, raw, text, decoded, speech_s):
            text, heard, dropped = "", "", "doubt"
        return Transcription(
            text=text,
            raw_text=raw,
            dropped=dropped,
            seconds=time.perf_counter() - started,
            uncorrected=heard,
            no_speech_prob=decoded.no_speech_prob,
            avg_logprob=decoded.avg_logprob,
        )

    async def recognize(
        self, pcm16: np.ndarray, sample_rate: int, hint: str | None, names: Sequence[str]
    ) -> Transcription:
        """`transcribe_detailed` in a worker thread (the `Recognizer` of the offline engine)."""
        return await asyncio.to_thread(self.transcribe_detailed, pcm16, sample_rate, hint, names)
