"""The config model: defaults, every bad-input case and its error message."""

from __future__ import annotations

from typing import Any

import pytest

from components import ConfigError, SecretFile, ThreeTierAppArgs, TierArgs, parse_settings
from components.config import TIER_DEFAULTS


def settings_with(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"namespace": "shop"}
    raw.update(overrides)
    return raw


def test_defaults_give_a_valid_app_whose_namespace_and_platform_stack_are_the_environments() -> None:
    settings = parse_settings({})
    assert settings.app.namespace == ""  # the platform stack's, filled in by in_environment
    assert settings.platform_stack == ""  # organization/threetier-platform/<stack>
    assert settings.app.frontend.image == TIER_DEFAULTS["frontend"]["image"]
    assert settings.app.frontend.container_port == 8080
    assert settings.app.database.health_path is None


def test_tier_settings_override_defaults_key_by_key() -> None:
    settings = parse_settings(
        settings_with(
            frontend={
                "replicas": 3,
                "serviceType": "NodePort",
                "nodePort": 30111,
                "resources": {"limits": {"cpu": "2"}},
            }
        )
    )
    frontend = settings.app.frontend
    assert (frontend.replicas, frontend.service_type, frontend.node_port) == (3, "NodePort", 30111)
    assert frontend.resources.cpu_limit == "2"
    assert frontend.resources.memory_limit == "256Mi"
    assert frontend.image == TIER_DEFAULTS["frontend"]["image"]


def test_integral_floats_are_accepted_as_ints() -> None:
    settings = parse_settings(settings_with(backend={"replicas": 2.0, "port": 8080.0}))
    assert settings.app.backend.replicas == 2
    assert isinstance(settings.app.backend.port, int)


BAD_INPUTS: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "invalid service type",
        {"frontend": {"serviceType": "Ingress"}},
        "threetier:frontend.serviceType",
        "allowed values: ClusterIP, NodePort, LoadBalancer",
    ),
    ("port zero", {"backend": {"port": 0}}, "threetier:backend.port", "an integer from 1 to 65535"),
    ("port too high", {"backend": {"port": 70000}}, "threetier:backend.port", "an integer from 1 to 65535"),
    (
        "targetPort too high",
        {"backend": {"targetPort": 65536}},
        "threetier:backend.targetPort",
        "an integer from 1 to 65535",
    ),
    (
        "nodePort below range",
        {"frontend": {"serviceType": "NodePort", "nodePort": 8080}},
        "threetier:frontend.nodePort",
        "an integer from 30000 to 32767",
    ),
    (
        "nodePort above range",
        {"frontend": {"serviceType": "LoadBalancer", "nodePort": 40000}},
        "threetier:frontend.nodePort",
        "an integer from 30000 to 32767",
    ),
    (
        "nodePort on ClusterIP",
        {"backend": {"nodePort": 30001}},
        "threetier:backend.nodePort",
        "set serviceType to NodePort or LoadBalancer",
    ),
    (
        "two tiers, one nodePort",
        {
            "frontend": {"serviceType": "NodePort", "nodePort": 30080},
            "backend": {"serviceType": "NodePort", "nodePort": 30080},
        },
        "threetier:backend.nodePort",
        "already used by threetier:frontend.nodePort",
    ),
    ("negative replicas", {"backend": {"replicas": -1}}, "threetier:backend.replicas", "an integer >= 0"),
    ("replicas not a number", {"backend": {"replicas": "two"}}, "threetier:backend.replicas", "an integer >= 0"),
    ("empty image", {"database": {"image": ""}}, "threetier:database.image", "an explicit tag or digest"),
    ("untagged image", {"database": {"image": "postgres"}}, "threetier:database.image", "an explicit tag or digest"),
    (
        "registry port is not a tag",
        {"database": {"image": "registry:5000/postgres"}},
        "threetier:database.image",
        "an explicit tag or digest",
    ),
    ("namespace not a DNS label", {"namespace": "Shop_Prod"}, "threetier:namespace", "a DNS-1123 label"),
    ("app name not a DNS-1035 label", {"appName": "3tier"}, "threetier:appName", "a DNS-1035 label"),
    ("unknown tier key", {"frontend": {"replica": 2}}, "threetier:frontend.replica", "allowed keys: image, replicas"),
    (
        "unknown resources key",
        {"frontend": {"resources": {"request": {}}}},
        "threetier:frontend.resources.request",
        "allowed keys: requests, limits",
    ),
    (
        "bad quantity",
        {"frontend": {"resources": {"limits": {"memory": "lots"}}}},
        "threetier:frontend.resources.limits.memory",
        "a Kubernetes quantity",
    ),
    ("unknown top-level key", {"frontnd": {}}, "threetier:frontnd", "allowed keys: namespace"),
    ("tier not an object", {"backend": "big"}, "threetier:backend", "a JSON object"),
    ("root user", {"backend": {"runAsUser": 0}}, "threetier:backend.runAsUser", "non-root"),
    (
        "bad pull policy",
        {"backend": {"imagePullPolicy": "Sometimes"}},
        "threetier:backend.imagePullPolicy",
        "allowed values: Always, IfNotPresent, Never",
    ),
    (
        "health path without slash",
        {"backend": {"healthPath": "healthz"}},
        "threetier:backend.healthPath",
        "a path starting with '/'",
    ),
    ("skipAwait not a boolean", {"skipAwait": "yes"}, "threetier:skipAwait", "allowed values: true, false"),
]


@pytest.mark.parametrize(("case", "raw", "key", "allowed"), BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_names_the_key_and_allowed_values(case: str, raw: dict[str, Any], key: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(settings_with(**raw))
    assert caught.value.keys == [key], f"{case}: {caught.value}"
    assert allowed in str(caught.value)


def test_a_platform_stack_name_that_is_not_a_string_names_the_key() -> None:
    # (Pulumi config hands programs strings; a parsed object may carry anything.)
    with pytest.raises(ConfigError) as caught:
        parse_settings(settings_with(platformStack=7))
    assert caught.value.keys == ["threetier:platformStack"]
    assert "allowed values: a string" in str(caught.value)


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(settings_with(frontend={"serviceType": "Ingress", "port": 0}, database={"image": ""}))
    assert set(caught.value.keys) == {
        "threetier:frontend.serviceType",
        "threetier:frontend.port",
        "threetier:database.image",
    }


def app_args(**overrides: Any) -> ThreeTierAppArgs:
    tiers = {
        "frontend": TierArgs(image="threetier/frontend:1.0.0", port=80, target_port=8080),
        "backend": TierArgs(image="threetier/backend:1.1.0", port=8080),
        "database": TierArgs(image="threetier/database:1.1.0", port=5432, health_path=None),
    }
    return ThreeTierAppArgs(namespace="shop", **{**tiers, **overrides})


@pytest.mark.parametrize("length", [16, 32, 128])
def test_password_lengths_inside_the_bounds_are_accepted(length: int) -> None:
    assert app_args(password_length=length).validate() == []


@pytest.mark.parametrize("length", [15, 129])
def test_password_lengths_outside_the_bounds_name_the_key(length: int) -> None:
    [problem] = app_args(password_length=length).validate(key_prefix="threetier:")
    assert problem.key == "threetier:passwordLength"
    assert problem.message == f"{length} is not valid; allowed values: an integer from 16 to 128"


def test_an_env_var_that_also_carries_a_secret_file_path_is_rejected() -> None:
    args = TierArgs(
        image="api:1.0.0",
        port=80,
        env={"TOKEN_FILE": "/tmp/token", "LOG_LEVEL": "info"},
        secret_files=(SecretFile("api-token", "token", "TOKEN_FILE"),),
    )
    [problem] = args.validate("api")
    assert problem.key == "api.env"
    assert problem.message == "TOKEN_FILE also carries a Secret file's path; allowed: one source per variable"
    without_clash = TierArgs(image="api:1.0.0", port=80, env={"LOG_LEVEL": "info"}, secret_files=args.secret_files)
    assert without_clash.validate("api") == []
