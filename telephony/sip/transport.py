"""SIP over UDP: aiosipua's transport, bound to any port, logging a bad datagram in one line.

aiosipua 0.7.1's UDP protocol asserts that the socket is an `asyncio.DatagramTransport`,
which the selector transport of Python 3.11 is not (the assertion fails harmlessly but
logs a traceback at every start), and it logs every unparseable datagram with a
traceback. This subclass binds with its own protocol, learns the port it was given
(port 0 picks a free one) and reports a malformed message as one line.
"""

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiosipua.message import SipMessage, SipRequest
from aiosipua.transport import UdpSipTransport, _stamp_via_received

logger = logging.getLogger(__name__)

MAX_DATAGRAM = 65_507


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, owner: "UdpTransport") -> None:
        self._owner = owner

    def datagram_received(self, data: bytes, addr: tuple[str, int] | Any) -> None:
        self._owner.receive(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        logger.warning("sip: UDP error: %s", exc)


BadRequestHandler = Callable[[SipRequest, Exception], None]


class UdpTransport(UdpSipTransport):
    """One UDP socket carrying every SIP message of the endpoint. A request its handler
    cannot take (aiosipua raising on a broken SDP body, say) goes to `on_bad_request`."""

    on_bad_request: BadRequestHandler | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self), local_addr=self.local_addr
        )
        self._udp_transport = transport
        host, port = transport.get_extra_info("sockname")[:2]
        self.local_addr = (str(host), int(port))

    def receive(self, data: bytes, addr: tuple[str, int]) -> None:
        """Parse one datagram and hand it on; a malformed one is dropped with a log line."""
        try:
            message = SipMessage.parse(data)
            if isinstance(message, SipRequest):
                _stamp_via_received(message, addr)  # received/rport (RFC 3581)
        except Exception as error:  # any parse failure: the datagram is not SIP we can read
            logger.warning("sip: dropped malformed message from %s:%d: %s", *addr, error)
            return
        if self.on_message is None:
            return
        try:
            self.on_message(message, addr)
        except Exception as error:  # a handler bug must not take the socket down with it
            if isinstance(message, SipRequest) and self.on_bad_request is not None:
                self.on_bad_request(message, error)
            else:
                logger.exception("sip: error handling %s from %s:%d", _kind(message), *addr)


def _kind(message: SipMessage) -> str:
    if isinstance(message, SipRequest):
        return message.method
    return f"response {getattr(message, 'status_code', '?')}"
