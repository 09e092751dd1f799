"""LLM mode: an OpenAI-compatible endpoint helping the rule-based engine (see driver.py)."""
