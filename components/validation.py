"""Checks on single values, each returning the problems it found (empty when valid).

Every check names the config key and the allowed values, so the error reads as a fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import Problem

SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer")
IMAGE_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
PORT_RANGE = (1, 65535)
NODE_PORT_RANGE = (30000, 32767)

_DNS_1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS_1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# Label keys and values (apimachinery's IsQualifiedName / IsValidLabelValue).
_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_QUANTITY = re.compile(r"^([0-9]+(\.[0-9]+)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
# A tag is the part after the last ':' that follows the last '/'; a digest follows '@'.
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")


def is_int(value: Any) -> bool:
    """True for ints (and integral floats, as Pulumi config may deliver), never for bools."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def as_int(value: Any) -> Any:
    """Integral floats (Pulumi config numbers may be floats) become ints; the rest is left to validation."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def check_choice(key: str, value: Any, allowed: Iterable[str]) -> list[Problem]:
    """``value`` must be one of ``allowed``."""
    allowed = tuple(allowed)
    if value in allowed:
        return []
    return [Problem(key, f"{value!r} is not valid; allowed values: {', '.join(allowed)}")]


def check_int_range(key: str, value: Any, low: int, high: int) -> list[Problem]:
    """``value`` must be an integer in ``[low, high]``."""
    if is_int(value) and low <= int(value) <= high:
        return []
    return [Problem(key, f"{value!r} is not valid; allowed values: an integer from {low} to {high}")]


def check_port(key: str, value: Any) -> list[Problem]:
    """A TCP port, 1-65535."""
    return check_int_range(key, value, *PORT_RANGE)


def check_node_port(key: str, value: Any) -> list[Problem]:
    """A node port inside the API server's default range, 30000-32767."""
    return check_int_range(key, value, *NODE_PORT_RANGE)


def check_replicas(key: str, value: Any) -> list[Problem]:
    """A replica count: an integer, 0 or more."""
    if is_int(value) and int(value) >= 0:
        return []
    return [Problem(key, f"{value!r} is not valid; allowed values: an integer >= 0")]


def check_dns_1035_label(key: str, value: Any) -> list[Problem]:
    """A Service name: lower-case RFC 1035 label, at most 63 characters."""
    if isinstance(value, str) and len(value) <= 63 and _DNS_1035_LABEL.match(value):
        return []
    return [
        Problem(
            key,
            f"{value!r} is not valid; allowed values: a DNS-1035 label (lower-case letters, digits "
            "and '-', starting with a letter, ending with a letter or digit, at most 63 characters)",
        )
    ]


def check_dns_1123_label(key: str, value: Any) -> list[Problem]:
    """A namespace name: lower-case RFC 1123 label, at most 63 characters."""
    if isinstance(value, str) and len(value) <= 63 and _DNS_1123_LABEL.match(value):
        return []
    return [
        Problem(
            key,
            f"{value!r} is not valid; allowed values: a DNS-1123 label (lower-case letters, digits "
            "and '-', starting and ending with a letter or digit, at most 63 characters)",
        )
    ]


def check_dns_subdomain(key: str, value: Any) -> list[Problem]:
    """A DNS domain such as ``cluster.local``: dot-separated DNS-1123 labels."""
    if (
        isinstance(value, str)
        and 0 < len(value) <= 253
        and all(_DNS_1123_LABEL.match(part) for part in value.split("."))
    ):
        return []
    return [Problem(key, f"{value!r} is not valid; allowed values: a DNS domain such as 'cluster.local'")]


def check_label_key(key: str, value: Any) -> list[Problem]:
    """A label key: an optional DNS subdomain prefix and '/', then a name of at most 63 characters."""
    if isinstance(value, str) and value:
        prefix, _, name = value.rpartition("/")
        prefix_ok = not prefix or not check_dns_subdomain(key, prefix)
        if prefix_ok and name and len(name) <= 63 and _LABEL_NAME.match(name):
            return []
    return [
        Problem(
            key,
            f"{value!r} is not valid; allowed values: a label key such as 'disktype' or 'example.com/pool' (a name "
            "of at most 63 letters, digits, '-', '_', '.', starting and ending with a letter or digit, optionally "
            "after a DNS subdomain and '/')",
        )
    ]


def check_label_value(key: str, value: Any) -> list[Problem]:
    """A label value: empty, or at most 63 letters, digits, '-', '_', '.', starting and ending alphanumeric."""
    if isinstance(value, str) and len(value) <= 63 and _LABEL_NAME.match(value):
        return []
    return [
        Problem(
            key,
            f"{value!r} is not valid; allowed values: a label value (a string of at most 63 letters, digits, "
            "'-', '_', '.', starting and ending with a letter or digit, or empty)",
        )
    ]


def check_label_map(key: str, value: Any) -> list[Problem]:
    """A map of label keys to label values (e.g. a nodeSelector), each entry named ``<key>.<label>``."""
    if not isinstance(value, Mapping):
        return [Problem(key, f"{value!r} is not valid; allowed values: a map of label key: 'label value'")]
    problems: list[Problem] = []
    for name, item in value.items():
        problems += check_label_key(f"{key}.{name}", name) or check_label_value(f"{key}.{name}", item)
    return problems


def image_has_tag(image: str) -> bool:
    """True when ``image`` names a tag (``repo:tag``) or a digest (``repo@sha256:...``)."""
    if "@" in image:
        return image.split("@", 1)[1].startswith("sha256:")
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return False
    return bool(_TAG.match(last.rsplit(":", 1)[1]))


def check_image(key: str, value: Any) -> list[Problem]:
    """A container image reference with an explicit tag or digest."""
    if isinstance(value, str) and value.strip() and image_has_tag(value):
        return []
    return [
        Problem(
            key,
            f"{value!r} is not valid; allowed values: an image with an explicit tag or digest, "
            "e.g. 'registry.example/app:1.2.3' or 'app@sha256:...'",
        )
    ]


def check_quantity(key: str, value: Any) -> list[Problem]:
    """A Kubernetes resource quantity such as ``250m`` or ``128Mi``."""
    if isinstance(value, str) and _QUANTITY.match(value):
        return []
    return [Problem(key, f"{value!r} is not valid; allowed values: a Kubernetes quantity such as '250m' or '128Mi'")]


def check_env(key: str, value: Any) -> list[Problem]:
    """A map of environment variable names to string values."""
    if not isinstance(value, Mapping):
        return [Problem(key, f"{value!r} is not valid; allowed values: a map of NAME: 'string value'")]
    problems: list[Problem] = []
    for name, item in value.items():
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            problems.append(
                Problem(f"{key}.{name}", "is not a valid variable name; allowed values: letters, digits, '_', '-', '.'")
            )
        elif not isinstance(item, str):
            problems.append(Problem(f"{key}.{name}", f"{item!r} is not valid; allowed values: a string"))
    return problems


def check_http_path(key: str, value: Any) -> list[Problem]:
    """An HTTP path starting with '/', or null for a TCP probe."""
    if value is None or (isinstance(value, str) and value.startswith("/")):
        return []
    return [Problem(key, f"{value!r} is not valid; allowed values: a path starting with '/', or null for a TCP probe")]


def check_non_root_uid(key: str, value: Any) -> list[Problem]:
    """A non-root user id (the restricted Pod Security level forbids 0)."""
    if is_int(value) and int(value) >= 1:
        return []
    return [Problem(key, f"{value!r} is not valid; allowed values: an integer >= 1 (non-root)")]


def check_known_keys(key: str, value: Mapping[str, Any], allowed: Iterable[str]) -> list[Problem]:
    """Every key of ``value`` must be one of ``allowed``: typos fail instead of being ignored."""
    allowed = tuple(allowed)
    return [
        Problem(f"{key}.{name}" if key else str(name), f"unknown key; allowed keys: {', '.join(allowed)}")
        for name in value
        if name not in allowed
    ]


def check_https_url(key: str, value: Any) -> list[Problem]:
    """An ``https://host[:port]`` URL, such as a Kubernetes API server's."""
    if isinstance(value, str) and _HTTPS_URL.match(value):
        return []
    return [Problem(key, f"{value!r} is not valid; allowed values: an https:// URL such as 'https://127.0.0.1:6443'")]


_HTTPS_URL = re.compile(r"^https://[A-Za-z0-9.\-\[\]:]+(:[0-9]{1,5})?(/[^\s]*)?$")
