"""The agents' review page: a server-rendered aiohttp app served by `voicebot serve`."""
