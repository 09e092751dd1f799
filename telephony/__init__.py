"""Real phone lines for the voice bot: carriers and SIP, run by `voicebot serve`."""
