"""A different app from the same components: an API on a NodePort in front of a Redis cache.

A program of its own that depends on the ``threetier`` library (``pip install`` of its wheel or
of ``git+<repository URL>``), as in the README's "Using the components in your own program";
``tests/`` unit-tests it with the library's ``offline`` mocks. Stack config: ``apiReplicas``.
"""

import pulumi
import pulumi_kubernetes as k8s

from components import ResourceSpec, Tier, TierArgs

NAMESPACE = "cache-app"
config = pulumi.Config()

namespace = k8s.core.v1.Namespace(
    "cache-app",
    metadata={"name": NAMESPACE, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}},
)
in_namespace = pulumi.ResourceOptions(depends_on=[namespace])

cache = Tier(
    "cache",
    TierArgs(
        image="redis:7.4.1", port=6379, health_path=None, scheme="redis", resources=ResourceSpec(memory_limit="128Mi")
    ),
    namespace=NAMESPACE,
    part_of="cache-app",
    opts=in_namespace,
)
api = Tier(
    "api",
    TierArgs(
        image="ghcr.io/example/api:2.3.1",
        port=80,
        target_port=8000,
        replicas=config.get_int("apiReplicas", 2),
        service_type="NodePort",
        node_port=31080,
        env={"CACHE_URL": f"redis://{cache.dns_names.fqdn}:6379"},
    ),
    namespace=NAMESPACE,
    part_of="cache-app",
    opts=in_namespace,
)

pulumi.export("api", api.outputs())
pulumi.export("cache", cache.outputs())
