"""Twilio: media streams over websockets, TwiML webhooks and the REST API."""
