"""Another program composes the components differently (examples/cache_app) without copying code."""

from __future__ import annotations

import runpy
from pathlib import Path

from offline import evaluate_program

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cache_app" / "__main__.py"


def test_cache_app_composes_tiers_its_own_way() -> None:
    def program() -> None:
        runpy.run_path(str(EXAMPLE))

    evaluation = evaluate_program(program, stack="dev", config={}, project="cache-app")
    services = {
        r.inputs["metadata"]["name"]: r.inputs["spec"]
        for r in evaluation.kubernetes_objects()
        if r.type.endswith(":Service")
    }
    assert services.keys() == {"api", "cache"}
    assert services["api"]["type"] == "NodePort"
    assert services["api"]["ports"][0]["nodePort"] == 31080
    assert services["cache"]["type"] == "ClusterIP"

    api, cache = evaluation.outputs["api"], evaluation.outputs["cache"]
    assert cache["dnsNames"]["fqdn"] == "cache.cache-app.svc.cluster.local"
    assert cache["urls"]["inCluster"] == "redis://cache.cache-app.svc.cluster.local:6379"
    assert api["nodePort"] == 31080
    assert api["replicas"] == 2

    [api_deployment] = [
        r for r in evaluation.kubernetes_objects() if r.type.endswith(":Deployment") and r.name == "api"
    ]
    env = api_deployment.inputs["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "CACHE_URL", "value": "redis://cache.cache-app.svc.cluster.local:6379"} in env
    labels = api_deployment.inputs["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/part-of"] == "cache-app"
