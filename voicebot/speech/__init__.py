"""Offline speech building blocks: Whisper ASR, the offline Mandarin voice, edge-tts."""
