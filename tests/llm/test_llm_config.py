"""The [llm] settings: off by default, the key from the environment, checked up front."""

import pytest

from voicebot.config import ConfigError, load_settings


def test_llm_mode_is_off_by_default() -> None:
    llm = load_settings(environ={}).llm
    assert not llm.enabled and llm.budget_s == 1.2 and llm.api_key == ""


def test_the_endpoint_comes_from_settings_and_the_key_from_its_variable() -> None:
    llm = load_settings(
        environ={
            "VOICEBOT_LLM__BASE_URL": "https://api.deepseek.com/v1",
            "VOICEBOT_LLM__MODEL": "deepseek-chat",
            "VOICEBOT_LLM__BUDGET_S": "0.8",
            "VOICEBOT_LLM_API_KEY": "sk-secret",
        }
    ).llm
    assert llm.enabled and llm.model == "deepseek-chat" and llm.budget_s == 0.8
    assert llm.api_key == "sk-secret"
    assert "sk-secret" not in repr(llm)


def test_an_endpoint_without_a_model_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"llm\.model"):
        load_settings(environ={"VOICEBOT_LLM__BASE_URL": "http://127.0.0.1:11434/v1"})
