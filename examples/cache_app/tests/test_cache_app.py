"""Unit tests of the cache app under the ``offline`` mocks: no cluster, no Pulumi CLI, no credentials.

They run the real program (``__main__.py``) per stack, against a fresh emulated API server
that allocates cluster IPs and node ports and rejects what a real one would.
"""

from pathlib import Path

import pytest

from offline import ApiServerMocks, ApiServerRejectionError, PulumiProject, manifests

APP = PulumiProject.load(Path(__file__).resolve().parents[1])


def test_each_stack_sets_the_api_replicas() -> None:
    assert APP.evaluate("dev").outputs["api"]["replicas"] == 1
    assert APP.evaluate("prod").outputs["api"]["replicas"] == 3
    assert APP.evaluate("dev", {"apiReplicas": 5}).outputs["api"]["replicas"] == 5


def test_the_api_is_reachable_on_its_node_port_and_finds_the_cache_by_name() -> None:
    evaluation = APP.evaluate("dev")
    api, cache = evaluation.outputs["api"], evaluation.outputs["cache"]
    assert api["nodePort"] == 31080
    assert api["clusterIP"] != cache["clusterIP"]  # both allocated by the emulated API server
    assert cache["urls"]["inCluster"] == "redis://cache.cache-app.svc.cluster.local:6379"

    [deployment] = [m for m in manifests(evaluation) if m["kind"] == "Deployment" and m["metadata"]["name"] == "api"]
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "CACHE_URL", "value": cache["urls"]["inCluster"]} in env


def test_a_second_copy_on_the_same_cluster_is_refused_its_node_port() -> None:
    cluster = ApiServerMocks()
    APP.evaluate("dev", mocks=cluster)
    with pytest.raises(ApiServerRejectionError, match="31080: provided port is already allocated"):
        APP.evaluate("dev", mocks=cluster)
