"""Run one CLI operation against a program in this process: the Automation API's inline mode, lean.

``auto.Stack.up`` with a ``program`` serves the program to the CLI over gRPC (``--client``), then
runs ``pulumi stack output`` and ``pulumi stack history`` to build its ``UpResult`` (0.9 s here,
after the deployment is done). ``make up`` reads neither, so :func:`run_inline` serves the program
the same way (the SDK's own language server; the SDK is pinned, see requirements.txt) and returns
when the CLI does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent import futures
from typing import Optional

import grpc
from pulumi import automation as auto
from pulumi.automation._server import LanguageServer  # the server Stack.up(program=...) uses
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import language_pb2_grpc

Printer = Optional[Callable[[str], None]]


def run_inline(
    command: auto.PulumiCommand,
    args: Sequence[str],
    *,
    program: Callable[[], None],
    cwd: str,
    env: Mapping[str, str],
    on_output: Printer = None,
    on_error: Printer = None,
) -> auto.CommandResult:
    """``pulumi ARGS --client ADDR --exec-kind auto.inline`` with ``program`` served from here.

    Raises ``auto.CommandError`` when the CLI fails (the program's own error included).
    """
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=_GRPC_CHANNEL_OPTIONS)
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageServer(program), server)
    port = server.add_insecure_port(address="127.0.0.1:0")
    server.start()
    try:
        inline_args = [*args, f"--client=127.0.0.1:{port}", "--exec-kind", "auto.inline"]
        return command.run(inline_args, cwd, {"PULUMI_DEBUG_COMMANDS": "true", **env}, on_output, on_error)
    finally:
        server.stop(0)
