"""The TwiML documents the bot gives Twilio: connect the media stream, dial an agent."""

from collections.abc import Mapping
from xml.etree.ElementTree import Element, SubElement, tostring


def connect_stream(stream_url: str, parameters: Mapping[str, str]) -> str:
    """<Connect><Stream>: a bidirectional media stream to `stream_url`; `parameters`
    come back in the stream's `start` message."""
    response = Element("Response")
    stream = SubElement(SubElement(response, "Connect"), "Stream", url=stream_url)
    for name, value in parameters.items():
        SubElement(stream, "Parameter", name=name, value=value)
    return _document(response)


def dial(number: str, action_url: str, timeout_s: int) -> str:
    """<Dial>: ring `number` (an agent or a queue's number); the result goes to `action_url`."""
    response = Element("Response")
    SubElement(response, "Dial", action=action_url, timeout=str(timeout_s)).text = number
    return _document(response)


def hang_up() -> str:
    response = Element("Response")
    SubElement(response, "Hangup")
    return _document(response)


def reject_busy() -> str:
    response = Element("Response")
    SubElement(response, "Reject", reason="busy")
    return _document(response)


def _document(root: Element) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>' + tostring(root, encoding="unicode")
