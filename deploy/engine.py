"""Find the Pulumi engine installed on this machine, and name precisely what is missing.

The engine is a machine prerequisite, like a user's Pulumi install: the ``pulumi`` CLI (``make
toolchain`` builds it from its Go module into ``.toolchain/bin``, or any ``pulumi`` on PATH), the
Python language host ``pulumi-language-python`` and the resource plugins ``kubernetes`` and
``random`` at exactly the versions the pinned Python SDKs request. They are looked up where a
Pulumi install puts them: on PATH, in ``$PULUMI_HOME/bin`` (the installer's ``~/.pulumi/bin``),
and in the plugin cache ``$PULUMI_HOME/plugins`` (``pulumi plugin install``). Nothing is
downloaded.

The component package's consumers need one more language host each, looked up the same way and
reported apart (the stacks run without them): ``pulumi-language-yaml`` (``make toolchain`` builds
it into ``.toolchain/bin``) for ``examples/yaml-app``, ``pulumi-language-nodejs`` (a machine
prerequisite, like the Python host) for ``examples/ts-app``.

``python -m deploy`` prints the report; exit status 0 when the stacks' engine is complete, 2 when not.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
#: The CLI `make toolchain` builds (linked from the version-keyed cache outside the clone).
TOOLCHAIN_BIN = ROOT / ".toolchain" / "bin"
#: The CLI version the pinned `pulumi` Python SDK goes with (hack/versions-pulumi.env).
VERSIONS_FILE = ROOT / "hack" / "versions-pulumi.env"
#: Resource plugins the program uses, by the Python SDK that requests them.
RESOURCE_PLUGINS = {"kubernetes": "pulumi_kubernetes", "random": "pulumi_random"}


def pulumi_home() -> Path:
    """``$PULUMI_HOME``, else ``~/.pulumi`` (where the CLI keeps plugins and its own bin)."""
    configured = os.environ.get("PULUMI_HOME")
    return Path(configured) if configured else Path.home() / ".pulumi"


def search_path() -> str:
    """PATH as the engine should see it: the built CLI first, then PATH, then ``~/.pulumi/bin``."""
    parts = [str(TOOLCHAIN_BIN), os.environ.get("PATH", ""), str(pulumi_home() / "bin")]
    return os.pathsep.join(part for part in parts if part)


def required_cli_version() -> str:
    """``PULUMI_VERSION`` from hack/versions-pulumi.env (e.g. ``v3.259.0``)."""
    return pinned_version("PULUMI_VERSION")


def pinned_version(variable: str) -> str:
    """A version pinned in hack/versions-pulumi.env (``PULUMI_VERSION``, ``PULUMI_YAML_VERSION``)."""
    for line in VERSIONS_FILE.read_text().splitlines():
        if line.startswith(f"{variable}="):
            return line.split("=", 1)[1].strip()
    raise ValueError(f"{VERSIONS_FILE}: no {variable}")


def requested_plugin_version(package: str) -> str:
    """The plugin version a provider SDK requests (its ``pulumi-plugin.json``), e.g. ``4.32.0``.

    Read beside the package without importing it (importing ``pulumi_kubernetes`` takes 0.2 s).
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"no package {package} in this Python")
    manifest_file = Path(next(iter(spec.submodule_search_locations))) / "pulumi-plugin.json"
    return str(json.loads(manifest_file.read_text())["version"]).lstrip("v")


@dataclass(frozen=True)
class Piece:
    """One part of the engine: where it was found, or why not (with how to install it)."""

    name: str
    path: Optional[Path]
    detail: str
    install_hint: str = ""

    @property
    def found(self) -> bool:
        """True when the part is installed and usable."""
        return self.path is not None


@dataclass(frozen=True)
class Engine:
    """The engine on this machine: the CLI, the language host, the resource plugins.

    ``consumers``: the language hosts of the component package's consumers, by language
    (``yaml``, ``nodejs``); not needed by the stacks, so not part of :attr:`complete`.
    """

    pieces: list[Piece] = field(default_factory=list)
    consumers: dict[str, Piece] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Every part was found."""
        return all(piece.found for piece in self.pieces)

    @property
    def missing(self) -> list[Piece]:
        """The parts not found."""
        return [piece for piece in self.pieces if not piece.found]

    @property
    def cli(self) -> Optional[Path]:
        """The ``pulumi`` executable, when found."""
        return self.pieces[0].path if self.pieces else None

    def path(self) -> str:
        """PATH for the engine: the CLI's directory first, and the language host's when it is not cached.

        The CLI finds a language host in the plugin cache by itself; one found only in a directory
        of its own (``~/.pulumi/bin``) is put on PATH, where the CLI looks first.
        """
        parts = [str(TOOLCHAIN_BIN), os.environ.get("PATH", "")]
        hosts = [self.pieces[1] if len(self.pieces) > 1 else None, *self.consumers.values()]
        for host in hosts:
            if host is not None and host.path is not None and host.path.parent.parent != pulumi_home() / "plugins":
                parts.append(str(host.path.parent))
        return os.pathsep.join(part for part in dict.fromkeys(parts) if part)

    def env(self) -> dict[str, str]:
        """Environment for running the engine: PATH that finds every part; no plugin downloads."""
        return {
            "PATH": self.path(),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        }

    def report(self) -> str:
        """One line per part; for a missing one, what was looked for and how to install it."""
        lines = [line for piece in self.pieces for line in _report_lines(piece)]
        if self.consumers:
            lines.append("  for the component package's consumers (examples/yaml-app, examples/ts-app; optional):")
            lines += [line for piece in self.consumers.values() for line in _report_lines(piece)]
        return "\n".join(lines)

    def consumer_skip_reason(self, language: str) -> str:
        """Why a consumer in ``language`` cannot run here ('' when it can)."""
        if not self.complete:
            return self.skip_reason()
        host = self.consumers.get(language)
        if host is None or not host.found:
            detail = host.detail if host is not None else "not looked up"
            return f"no {language} language host: {detail}"
        return ""

    def skip_reason(self) -> str:
        """Why the engine cannot run (for tests that then report *skipped*)."""
        return "the Pulumi engine is incomplete: " + "; ".join(f"{p.name} ({p.detail})" for p in self.missing)


def _report_lines(piece: Piece) -> list[str]:
    mark = "ok     " if piece.found else "MISSING"
    lines = [f"  {mark} {piece.name}: {piece.detail}"]
    if not piece.found and piece.install_hint:
        lines.append(f"          install: {piece.install_hint}")
    return lines


def _find_cli(version: str) -> Piece:
    name = f"pulumi CLI {version}"
    path = shutil.which("pulumi", path=search_path())
    hint = "make toolchain (builds it from its Go module), or the official installer"
    if path is None:
        return Piece(name, None, "no `pulumi` in .toolchain/bin, on PATH or in ~/.pulumi/bin", hint)
    completed = subprocess.run([path, "version"], capture_output=True, text=True, check=False)
    found = completed.stdout.strip()
    if found != version:
        return Piece(name, None, f"{path} is {found or 'unusable'}, not {version}", hint)
    return Piece(name, Path(path), str(path))


def _plugin_dirs(kind: str, name: str, version: str) -> list[Path]:
    return [pulumi_home() / "plugins" / f"{kind}-{name}-v{version}"]


#: How to install each language host when it is missing.
HOST_HINTS = {
    "python": "it ships with the Pulumi CLI (official installer: ~/.pulumi/bin); "
    "or `pulumi plugin install language python {version} --file PATH`",
    "yaml": "make toolchain (builds it from github.com/pulumi/pulumi-yaml through hack/gomod/pulumi-yaml)",
    "nodejs": "it ships with the Pulumi CLI (official installer: ~/.pulumi/bin); "
    "or `pulumi plugin install language nodejs {version} --file PATH`",
}


def _find_language_host(version: str, language: str = "python") -> Piece:
    """On PATH (the CLI looks there first), else in the plugin cache (at ``version``), else in ``~/.pulumi/bin``."""
    name = f"pulumi-language-{language}"
    path = shutil.which(name, path=os.pathsep.join([str(TOOLCHAIN_BIN), os.environ.get("PATH", "")]))
    if path is not None:
        return Piece(name, Path(path), path)
    cached = [d / name for d in _plugin_dirs("language", language, version.lstrip("v"))]
    for candidate in cached:
        if os.access(candidate, os.X_OK) and not candidate.with_suffix(".partial").exists():
            return Piece(name, candidate, str(candidate))
    path = shutil.which(name, path=str(pulumi_home() / "bin"))
    if path is not None:
        return Piece(name, Path(path), path)
    where = ", ".join(str(c) for c in cached)
    return Piece(
        name,
        None,
        f"not in .toolchain/bin, on PATH, in {pulumi_home() / 'bin'} or at {where}",
        HOST_HINTS[language].format(version=version),
    )


def _find_resource_plugin(plugin: str, package: str) -> Piece:
    version = requested_plugin_version(package)
    name = f"pulumi-resource-{plugin} v{version}"
    binary = f"pulumi-resource-{plugin}"
    for directory in _plugin_dirs("resource", plugin, version):
        candidate = directory / binary
        partial = directory.parent / f"{directory.name}.partial"
        if os.access(candidate, os.X_OK) and not partial.exists():
            return Piece(name, candidate, str(candidate))
    path = shutil.which(binary, path=search_path())
    if path is not None:
        return Piece(name, Path(path), f"{path} (on PATH: the engine uses it whatever its version)")
    return Piece(
        name,
        None,
        f"not in {pulumi_home() / 'plugins' / f'resource-{plugin}-v{version}'} nor on PATH "
        f"(requested by {package}'s pulumi-plugin.json)",
        f"`pulumi plugin install resource {plugin} {version}` (needs the internet), "
        f"or `pulumi plugin install resource {plugin} {version} --file PATH` for a local build",
    )


def find_engine() -> Engine:
    """Look up every part of the engine (nothing is downloaded or built)."""
    version = required_cli_version()
    pieces = [_find_cli(version), _find_language_host(version)]
    pieces += [_find_resource_plugin(plugin, package) for plugin, package in RESOURCE_PLUGINS.items()]
    consumers = {
        "yaml": _find_language_host(pinned_version("PULUMI_YAML_VERSION"), "yaml"),
        "nodejs": _find_language_host(version, "nodejs"),
    }
    return Engine(pieces, consumers)


def main() -> int:
    """Print the engine report; exit 0 when complete, 2 when a part is missing."""
    engine = find_engine()
    print("Pulumi engine:" if engine.complete else "Pulumi engine (incomplete):")
    print(engine.report())
    return 0 if engine.complete else 2
