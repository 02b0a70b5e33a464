"""Network access with a guard: no packet to an address whose route leaves this machine.

This machine's default route leads off the machine, so a packet to a ClusterIP, pod IP or
LB IP that no local interface owns would leave it. Before any connection the verifier asks
the kernel (``ip route get``) where the packet would go and only proceeds when it stays
local: loopback, or a device inside a network namespace the project created.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import socket
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Optional

import dns.message
import dns.query
import dns.rdatatype

#: Network namespaces the project's local cluster creates start with this prefix.
PROJECT_NETNS_PREFIX = "threetier"


@dataclass(frozen=True)
class RouteDecision:
    """Whether a packet to ``address`` stays on this machine, and why."""

    address: str
    local: bool
    reason: str


def route_decision(address: str) -> RouteDecision:
    """Ask the kernel where a packet to ``address`` goes; local only for loopback or project devices."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return RouteDecision(address, False, f"{address} is not an IP address")
    if ip.is_loopback:
        return RouteDecision(address, True, f"{address} is a loopback address")
    ip_tool = shutil.which("ip")
    if ip_tool is None:
        return RouteDecision(address, False, "cannot check the route: the `ip` command (iproute2) is missing")
    result = subprocess.run([ip_tool, "-j", "route", "get", address], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return RouteDecision(address, False, f"no route to {address}: {result.stderr.strip()}")
    routes = json.loads(result.stdout or "[]")
    if not routes:
        return RouteDecision(address, False, f"no route to {address}")
    route = routes[0]
    device = str(route.get("dev", ""))
    if route.get("type") == "local" or device == "lo":
        return RouteDecision(address, True, f"{address} is owned by this machine (dev {device})")
    namespace = project_namespace_behind(ip_tool, device)
    if namespace:
        return RouteDecision(address, True, f"{address} routes via {device}, a veth into network namespace {namespace}")
    gateway = route.get("gateway")
    via = f" via {gateway}" if gateway else ""
    return RouteDecision(address, False, f"{address} routes{via} dev {device}, off this machine: no packet sent")


def project_namespace_behind(ip_tool: str, device: str) -> Optional[str]:
    """The project network namespace at the other end of veth ``device``, or None.

    True only for a veth whose peer lives in a namespace named ``threetier*``: a device's name
    alone proves nothing about where its packets go.
    """
    link = subprocess.run([ip_tool, "-j", "-d", "link", "show", "dev", device], capture_output=True, text=True)
    ids = subprocess.run([ip_tool, "-j", "netns", "list-id"], capture_output=True, text=True)
    if link.returncode != 0 or ids.returncode != 0:
        return None
    details = (json.loads(link.stdout or "[]") or [{}])[0]
    if (details.get("linkinfo") or {}).get("info_kind") != "veth" or "link_netnsid" not in details:
        return None
    names = {entry.get("nsid"): entry.get("name", "") for entry in json.loads(ids.stdout or "[]")}
    name = str(names.get(details["link_netnsid"], ""))
    return name if name.startswith(PROJECT_NETNS_PREFIX) else None


def http_get(url: str, timeout: float = 5.0) -> tuple[bool, str]:
    """GET ``url``; (True, "HTTP 200") on a 2xx/3xx answer, else (False, what happened)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 400, f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        return False, f"HTTP {error.code}"
    except (urllib.error.URLError, OSError) as error:
        return False, f"{type(error).__name__}: {error}"


def tcp_connect(host: str, port: int, timeout: float = 5.0) -> tuple[bool, str]:
    """Open (and close) a TCP connection to ``host:port``; (True, "connected") or (False, why)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True, "connected"
    except OSError as error:
        return False, f"{type(error).__name__}: {error}"


def resolve_a(server: str, port: int, name: str, timeout: float = 3.0) -> tuple[Optional[set[str]], str]:
    """A records of ``name`` from the DNS server ``server:port`` (UDP); (None, error) on failure."""
    query = dns.message.make_query(name, dns.rdatatype.A)
    try:
        response = dns.query.udp(query, server, port=port, timeout=timeout)
    except (dns.exception.DNSException, OSError) as error:
        return None, f"{type(error).__name__}: {error}"
    answers = {item.address for rrset in response.answer if rrset.rdtype == dns.rdatatype.A for item in rrset}
    return answers, f"rcode {dns.rcode.to_text(response.rcode())}"
