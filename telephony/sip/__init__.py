"""The bot as a SIP endpoint: a user agent on UDP (aiosipua) with G.711 RTP (aiortp)."""
