"""Real servers on 127.0.0.1 for the verifier's network code: a DNS server, an HTTP server, a closed port.

Loopback only: the verifier's route guard lets packets to 127.0.0.0/8 through, and nothing here
listens on or sends to any other address.
"""

from __future__ import annotations

import http.server
import random
import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dns.message
import dns.rcode
import dns.rrset

LOOPBACK = "127.0.0.1"
#: Kubernetes' default NodePort range: a node port the verifier reads must lie in it.
NODE_PORT_RANGE = (30000, 32767)


def _in_node_port_range(bind: Any) -> Any:
    """``bind(port)`` for random ports in the node-port range until one is free; its result."""
    low, high = NODE_PORT_RANGE
    for port in random.sample(range(low, high + 1), 200):
        try:
            return bind(port)
        except OSError:
            continue
    raise RuntimeError(f"no free TCP port in {low}-{high} on {LOOPBACK}")


@contextmanager
def dns_server(answers: Mapping[str, str]) -> Iterator[str]:
    """A UDP DNS server answering A queries from ``answers`` (name -> IPv4), NXDOMAIN for the rest.

    Yields its ``host:port``.
    """
    table = {name.rstrip(".") + ".": address for name, address in answers.items()}
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((LOOPBACK, 0))
    sock.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                wire, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            response = dns.message.make_response(query)
            question = query.question[0]
            address = table.get(question.name.to_text())
            if address is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
            else:
                response.answer.append(dns.rrset.from_text(question.name, 5, "IN", "A", address))
            sock.sendto(response.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"{LOOPBACK}:{sock.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        sock.close()


@contextmanager
def http_server(status: int) -> Iterator[int]:
    """An HTTP server answering every GET with ``status``, on a port in the node-port range; yields the port."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = _in_node_port_range(lambda port: http.server.ThreadingHTTPServer((LOOPBACK, port), Handler))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def refused_port() -> Iterator[int]:
    """A port in the node-port range that refuses connections: bound (so nobody else takes it), not listening."""

    def bind(port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            sock.close()
            raise
        return sock

    sock: socket.socket = _in_node_port_range(bind)
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()
