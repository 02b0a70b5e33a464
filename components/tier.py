"""One tier: a Deployment and the Service in front of it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

from . import naming, validation
from .args import Manifest, TierArgs
from .errors import raise_if_any

SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait"
WAIT_FOR_ANNOTATION = "pulumi.com/waitFor"
DELETION_PROPAGATION_ANNOTATION = "pulumi.com/deletionPropagationPolicy"
#: What a Service waits for before it counts as created: the address clients use. A cluster IP
#: is allocated on create; a LoadBalancer also needs its ingress (an allocator must assign it).
#: pulumi-kubernetes' default would also wait for ready endpoints, i.e. for the Deployment's pods,
#: which serialises every tier behind its own Service (the Deployment's own await already waits
#: for its pods to be Ready, and the verifier checks the endpoints).
SERVICE_WAIT_FOR = {
    "ClusterIP": "jsonpath={.spec.clusterIP}",
    "NodePort": "jsonpath={.spec.ports[0].nodePort}",
    "LoadBalancer": "jsonpath={.status.loadBalancer.ingress[0]}",
}
COMPONENT_TYPE = "threetier:components:Tier"
#: Placeholder in the exported node-port URL: any node's InternalIP.
NODE_IP_PLACEHOLDER = "<nodeIP>"
#: Seconds a terminating pod keeps serving (preStop sleep) while kube-proxy and load balancers
#: drop it from their endpoints: without it, scaling down refuses the requests already routed to it.
DRAIN_SECONDS = 5
#: Extra pods a rollout starts before it stops an old one (``maxSurge``; ``maxUnavailable`` is 0):
#: a tier of N replicas briefly runs N + ROLLOUT_SURGE pods, which its namespace's quota must allow.
ROLLOUT_SURGE = 1


class Tier(pulumi.ComponentResource):
    """A Deployment and its Service of a chosen type, wired for cluster DNS.

    ``service_name`` (default: ``name``, the Pulumi resource name) is the fixed name of
    both the Deployment and the Service, so other tiers reach this one at
    ``<service_name>.<namespace>.svc.<cluster domain>``.

    ``dns_env`` maps env var names to the tiers this one calls: each variable carries that
    tier's fully qualified DNS name (``BACKEND_HOST=backend.ns.svc.cluster.local``). The
    Deployment is created after those tiers' Services, so its pods also get Kubernetes'
    ``<SERVICE>_SERVICE_HOST``/``_PORT`` variables for them (env-var discovery); its own Service
    and Deployment are created side by side.

    ``pod_annotations`` are added to the pod template: a value that changes (e.g. a checksum of
    a mounted Secret) rolls the pods.

    Arguments are validated before anything is registered; a bad value raises
    :class:`components.ConfigError` naming the key and the allowed values.

    Outputs (attributes): ``service_name``, ``namespace``, ``dns_names``, ``service_type``,
    ``cluster_ip``, ``port``, ``node_port``, ``load_balancer_ingress``, ``urls``; and
    :meth:`outputs` for a stack export.
    """

    def __init__(
        self,
        name: str,
        args: TierArgs,
        *,
        namespace: str,
        service_name: Optional[str] = None,
        component: Optional[str] = None,
        instance: Optional[str] = None,
        part_of: Optional[str] = None,
        cluster_domain: str = "cluster.local",
        skip_await: bool = False,
        dns_env: Optional[Mapping[str, Tier]] = None,
        extra_env: Optional[Mapping[str, pulumi.Input[str]]] = None,
        pod_annotations: Optional[Mapping[str, pulumi.Input[str]]] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        service_name = service_name or name
        raise_if_any(
            [
                *validation.check_dns_1035_label(f"{service_name}.name", service_name),
                *validation.check_dns_1123_label(f"{service_name}.namespace", namespace),
                *validation.check_dns_subdomain(f"{service_name}.clusterDomain", cluster_domain),
                *args.validate(service_name),
            ]
        )
        super().__init__(COMPONENT_TYPE, name, None, opts)

        self.args = args
        self.service_name = service_name
        self.namespace = namespace
        self.labels = naming.recommended_labels(
            name=service_name,
            instance=instance or namespace,
            component=component or service_name,
            part_of=part_of or service_name,
        )
        self.selector = naming.selector_labels(self.labels)
        self.dns_names = naming.service_dns_names(service_name, namespace, cluster_domain)
        #: Env vars that carry another tier's DNS name: discovery wiring, exported for verification.
        self.wiring = {
            env: {"service": tier.service_name, "fqdn": tier.dns_names.fqdn} for env, tier in (dns_env or {}).items()
        }
        self.dns_env = {env: target["fqdn"] for env, target in self.wiring.items()}
        # Children wait for what the component waits for (e.g. its namespace).
        depends_on = _resources_of(opts.depends_on if opts else None)
        self.service = k8s.core.v1.Service(
            name,
            metadata=self._metadata(skip_await, wait_for=SERVICE_WAIT_FOR[args.service_type]),
            spec=self._service_spec(),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
        )
        # Pods see <NAME>_SERVICE_HOST/_PORT only for Services that exist when they start: the
        # Deployment waits for the Services of the tiers it calls (not for its own).
        callee_services = [tier.service for tier in (dns_env or {}).values()]
        self.deployment = k8s.apps.v1.Deployment(
            name,
            # Deleted in the background: `pulumi destroy` does not wait for each Deployment's pods
            # one by one; the namespace's deletion waits for all of them at once.
            metadata=self._metadata(skip_await, **{DELETION_PROPAGATION_ANNOTATION: "background"}),
            spec=self._deployment_spec({**self.dns_env, **(extra_env or {})}, dict(pod_annotations or {})),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*depends_on, *callee_services]),
        )

        # Outputs are read back from the live Service (not the inputs): the API server
        # allocates the cluster IP, unpinned node ports and load-balancer ingress.
        live_spec = self.service.spec
        self.service_type: pulumi.Output[str] = live_spec.apply(lambda spec: spec.type or "ClusterIP")
        self.cluster_ip: pulumi.Output[Optional[str]] = live_spec.apply(lambda spec: spec.cluster_ip)
        self.port: pulumi.Output[int] = live_spec.apply(_first_port)
        self.node_port: pulumi.Output[Optional[int]] = live_spec.apply(_first_node_port)
        self.load_balancer_ingress: pulumi.Output[Optional[str]] = self.service.status.apply(_first_ingress)
        self.urls: pulumi.Output[dict[str, Optional[str]]] = pulumi.Output.all(
            self.port, self.node_port, self.load_balancer_ingress
        ).apply(lambda values: self._urls(*values))

        self.register_outputs(
            {
                "serviceName": self.service_name,
                "namespace": self.namespace,
                "serviceType": self.service_type,
                "clusterIP": self.cluster_ip,
                "port": self.port,
                "nodePort": self.node_port,
                "loadBalancerIngress": self.load_balancer_ingress,
                "dnsNames": self.dns_names.as_dict(),
                "urls": self.urls,
            }
        )

    def outputs(self) -> pulumi.Output[dict[str, Any]]:
        """Everything a client or a verifier needs about this tier, as one stack output."""
        return pulumi.Output.all(
            self.service_type, self.cluster_ip, self.port, self.node_port, self.load_balancer_ingress, self.urls
        ).apply(
            lambda values: {
                "serviceName": self.service_name,
                "deploymentName": self.service_name,
                "namespace": self.namespace,
                "serviceType": values[0],
                "clusterIP": values[1],
                "port": values[2],
                "targetPort": self.args.container_port,
                "nodePort": values[3],
                "loadBalancerIngress": values[4],
                "replicas": self.args.replicas,
                "selector": dict(self.selector),
                "dnsNames": self.dns_names.as_dict(),
                "urls": values[5],
                "wiring": self.wiring,
            }
        )

    def _urls(self, port: int, node_port: Optional[int], ingress: Optional[str]) -> dict[str, Optional[str]]:
        scheme = self.args.scheme
        return {
            "inCluster": f"{scheme}://{self.dns_names.fqdn}:{port}",
            "nodePort": f"{scheme}://{NODE_IP_PLACEHOLDER}:{node_port}" if node_port else None,
            "loadBalancer": f"{scheme}://{_host(ingress)}:{port}" if ingress else None,
        }

    def _metadata(self, skip_await: bool, *, wait_for: Optional[str] = None, **annotations: str) -> Manifest:
        """Fixed name, namespace and labels; ``pulumi.com/skipAwait`` when asked, else ``wait_for``."""
        if skip_await:
            annotations[SKIP_AWAIT_ANNOTATION] = "true"
        elif wait_for:
            annotations[WAIT_FOR_ANNOTATION] = wait_for
        metadata: Manifest = {"name": self.service_name, "namespace": self.namespace, "labels": self.labels}
        if annotations:
            metadata["annotations"] = annotations
        return metadata

    def _service_spec(self) -> Manifest:
        port: dict[str, Any] = {
            "name": "main",
            "port": self.args.port,
            "targetPort": self.args.container_port,
            "protocol": "TCP",
        }
        if self.args.node_port is not None and self.args.service_type != "ClusterIP":
            port["nodePort"] = self.args.node_port
        return {"type": self.args.service_type, "selector": self.selector, "ports": [port]}

    def _deployment_spec(
        self, extra_env: Mapping[str, pulumi.Input[str]], pod_annotations: dict[str, pulumi.Input[str]]
    ) -> Manifest:
        args = self.args
        plain_env = {**args.env, **extra_env, **{secret.path_env: secret.path for secret in args.secret_files}}
        env: list[dict[str, Any]] = [{"name": key, "value": value} for key, value in plain_env.items()]
        secret_volumes = _secret_volumes(args)
        container = {
            "name": self.service_name,
            "image": args.image,
            "imagePullPolicy": args.image_pull_policy,
            "ports": [{"name": "main", "containerPort": args.container_port, "protocol": "TCP"}],
            "env": env,
            "resources": args.resources.to_kubernetes(),
            "readinessProbe": {
                **_probe_action(args.readiness_probe_path),
                "periodSeconds": 2,
                "failureThreshold": 3,
            },
            "livenessProbe": {**_probe_action(args.health_path), "periodSeconds": 10, "failureThreshold": 6},
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "runAsNonRoot": True,
                "runAsUser": args.run_as_user,
                "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "volumeMounts": [
                {"name": "tmp", "mountPath": "/tmp"},
                *({"name": name, "mountPath": path, "readOnly": True} for name, path, _ in secret_volumes),
            ],
            "lifecycle": {"preStop": {"sleep": {"seconds": DRAIN_SECONDS}}},
        }
        template_metadata: Manifest = {"labels": self.labels}
        if pod_annotations:
            template_metadata["annotations"] = pod_annotations
        return {
            "replicas": args.replicas,
            "selector": {"matchLabels": self.selector},
            # Keep full capacity during a rollout: a new pod must be Ready before an old one goes.
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": ROLLOUT_SURGE}},
            "template": {
                "metadata": template_metadata,
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": True,
                    "terminationGracePeriodSeconds": DRAIN_SECONDS + 25,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": args.run_as_user,
                        "runAsGroup": args.run_as_user,
                        "fsGroup": args.run_as_user,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    **args.scheduling.pod_spec(self.selector),
                    "containers": [container],
                    "volumes": [
                        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
                        *(volume for _, _, volume in secret_volumes),
                    ],
                },
            },
        }


def _probe_action(path: Optional[str]) -> dict[str, Any]:
    if path is None:
        return {"tcpSocket": {"port": "main"}}
    return {"httpGet": {"path": path, "port": "main"}}


#: Mode of mounted Secret files: readable by the pod's group (fsGroup = the tier's uid), by no one else.
SECRET_FILE_MODE = 0o440


def _secret_volumes(args: TierArgs) -> list[tuple[str, str, Manifest]]:
    """(volume name, mount directory, volume) per Secret the tier mounts, with only the keys it reads."""
    keys: dict[str, list[str]] = {}
    directories: dict[str, str] = {}
    for secret in args.secret_files:
        keys.setdefault(secret.secret_name, []).append(secret.key)
        directories[secret.secret_name] = secret.mount_dir
    return [
        (
            f"secret-{name}",
            directories[name],
            {
                "name": f"secret-{name}",
                "secret": {
                    "secretName": name,
                    "defaultMode": SECRET_FILE_MODE,
                    "items": [{"key": key, "path": key} for key in sorted(set(names))],
                },
            },
        )
        for name, names in keys.items()
    ]


def _first_port(spec: Any) -> int:
    return int(spec.ports[0].port)


def _first_node_port(spec: Any) -> Optional[int]:
    ports = spec.ports or []
    node_port = ports[0].node_port if ports else None
    return int(node_port) if node_port else None


def _first_ingress(status: Any) -> Optional[str]:
    load_balancer = status.load_balancer if status else None
    ingress = (load_balancer.ingress if load_balancer else None) or []
    if not ingress:
        return None
    address = ingress[0].ip or ingress[0].hostname
    return str(address) if address else None


def _resources_of(depends_on: Any) -> list[pulumi.Resource]:
    if isinstance(depends_on, pulumi.Resource):
        return [depends_on]
    if isinstance(depends_on, (list, tuple)):
        return [item for item in depends_on if isinstance(item, pulumi.Resource)]
    return []


def _host(address: str) -> str:
    return f"[{address}]" if ":" in address else address
