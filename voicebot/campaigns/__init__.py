"""Outbound campaigns: who to call when (scheduler), durable attempts (state, attempts),
the lines calls go through, the in-process runner and the Redis workers (queue), SMS."""
