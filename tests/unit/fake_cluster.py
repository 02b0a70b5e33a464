"""A cluster double for the verifier: recorded API objects plus canned answers for commands in pods.

:class:`verify.cluster.RecordedCluster` runs nothing, so the pass/fail logic of the checks that
read a command's output (``dns.resolve`` through a probe pod, ``reach.inCluster``,
``discovery.serviceEnv``) would run only on a live cluster. :class:`FakeCluster` answers each
command from a table instead, the way busybox in a pod would, and remembers what it was asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from verify.cluster import RecordedCluster

from .verify_fixtures import TIERS, fqdn

#: What a command in a pod returned: (exit status 0, output); None when it could not run.
Answer = tuple[Optional[bool], str]
Command = tuple[str, ...]


class FakeCluster(RecordedCluster):
    """Recorded objects; ``run_probe`` and ``exec_in_pod`` answer from tables keyed by command."""

    def __init__(
        self,
        recording: dict[str, Any],
        probes: Optional[Mapping[Command, Answer]] = None,
        execs: Optional[Mapping[tuple[str, Command], Answer]] = None,
    ) -> None:
        super().__init__(recording)
        #: command -> answer of a probe pod.
        self.probes = dict(probes or {})
        #: (pod, command) -> answer of an exec into that pod.
        self.execs = dict(execs or {})
        #: Every command asked for, in order: ("probe", namespace, *command) or ("exec", pod, *command).
        self.asked: list[Command] = []

    def run_probe(self, namespace: str, command: list[str], image: str, timeout: float) -> Answer:
        """The canned answer for ``command``, or (None, why) when there is none."""
        self.asked.append(("probe", namespace, *command))
        return self.probes.get(tuple(command), (None, f"fake cluster: no canned answer for probe {command}"))

    def exec_in_pod(self, namespace: str, pod: str, command: list[str]) -> Answer:
        """The canned answer for ``command`` in ``pod``, or (None, why) when there is none."""
        self.asked.append(("exec", pod, *command))
        return self.execs.get((pod, tuple(command)), (None, f"fake cluster: no canned answer for exec {command}"))


def pod_of(tier: str) -> str:
    """The first recorded pod of ``tier`` (verify_fixtures names them ``<tier>-6d4cf56db6-NNNNN``)."""
    return f"{tier}-6d4cf56db6-00000"


def wget(url: str) -> Command:
    """The verifier's in-cluster GET, as busybox runs it in a probe pod."""
    return ("timeout", "8", "wget", "-q", "-O", "-", url)


def netcat(host: str, port: int) -> Command:
    """The verifier's in-cluster TCP connect, as busybox runs it in a client pod."""
    return ("sh", "-c", f"nc -w 5 {host} {port} </dev/null")


def nslookup_output(name: str, address: str) -> str:
    """What busybox ``nslookup`` prints for one A record."""
    return f"Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\nName:\t{name}\nAddress: {address}\n"


def service_env(*services: str) -> str:
    """The ``env`` of a pod started after ``services`` existed (Kubernetes' service env vars)."""
    lines = ["PATH=/usr/bin:/bin", "HOSTNAME=pod"]
    for service in services:
        port, _, _, _, ip, _, _ = TIERS[service]
        prefix = service.upper()
        lines += [f"{prefix}_SERVICE_HOST={ip}", f"{prefix}_SERVICE_PORT={port}", f"{prefix}_PORT=tcp://{ip}:{port}"]
    return "\n".join(lines) + "\n"


def healthy_probes() -> dict[Command, Answer]:
    """A working cluster's answers in the probe pod: names resolve to cluster IPs, the frontend answers.

    (The frontend is the one tier no tier of the stack calls, so its in-cluster GET comes from the
    probe pod; the others are reached from a pod of their client tier: :func:`healthy_execs`.)
    """
    probes: dict[Command, Answer] = {
        ("nslookup", fqdn(name)): (True, nslookup_output(fqdn(name), spec[4])) for name, spec in TIERS.items()
    }
    probes[wget(f"http://{fqdn('frontend')}:80")] = (True, "<html>threetier</html>")
    return probes


def healthy_execs() -> dict[tuple[str, Command], Answer]:
    """A working cluster's answers in the tiers' pods: service env vars present, each callee answers its caller."""
    return {
        (pod_of("frontend"), ("env",)): (True, service_env("backend", "database")),
        (pod_of("backend"), ("env",)): (True, service_env("frontend", "database")),
        (pod_of("frontend"), wget(f"http://{fqdn('backend')}:8080")): (True, '{"status": "ok"}'),
        (pod_of("backend"), netcat(fqdn("database"), 5432)): (True, ""),
    }


def with_real_node(objects: dict[str, Any], address: str = "127.0.0.1") -> dict[str, Any]:
    """``objects`` with one real (not kwok) node whose InternalIP is ``address``: a data plane exists."""
    objects["nodes"] = [
        {
            "metadata": {"name": "node-a"},
            "status": {
                "addresses": [{"type": "InternalIP", "address": address}],
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        }
    ]
    return objects


def pin_node_port(outputs: dict[str, Any], objects: dict[str, Any], tier: str, node_port: int) -> None:
    """Export and record ``node_port`` as ``tier``'s node port (e.g. one a loopback server holds)."""
    outputs[tier]["nodePort"] = node_port
    outputs[tier]["urls"]["nodePort"] = f"http://<nodeIP>:{node_port}"
    service = next(s for s in objects["services"] if s["metadata"]["name"] == tier)
    service["spec"]["ports"][0]["nodePort"] = node_port
