"""The policies of the pack, one module per group."""

from pulumi_policy import Policy

from .exposure import allowed_service_types, database_not_exposed, node_port_range
from .images import images_pinned
from .labels import recommended_labels
from .placement import replicas_spread_across_nodes
from .pod_security import restricted_pod_security
from .probes import probes_on_stateless_tiers
from .resources import container_resources
from .secrets import no_plaintext_secrets_in_env, secrets_as_files
from .stack import ha_stateless_tiers, no_dead_services, unique_node_ports
from .tenancy import explicit_provider, namespaces_have_quota_and_limits, no_cluster_scoped_resources, no_namespaces

PACK_NAME = "threetier-policies"


def build_policies() -> list[Policy]:
    """Every policy of the pack, resource policies first, then stack policies."""
    return [
        images_pinned,
        container_resources,
        probes_on_stateless_tiers,
        restricted_pod_security,
        replicas_spread_across_nodes,
        allowed_service_types,
        database_not_exposed,
        node_port_range,
        recommended_labels,
        no_plaintext_secrets_in_env,
        secrets_as_files,
        no_cluster_scoped_resources,
        no_namespaces,
        explicit_provider,
        no_dead_services,
        ha_stateless_tiers,
        unique_node_ports,
        namespaces_have_quota_and_limits,
    ]


__all__ = ["PACK_NAME", "build_policies"]
