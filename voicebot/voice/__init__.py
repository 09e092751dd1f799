"""The voice pipeline: phone line, VAD, ASR, conversation, TTS (pipecat)."""
