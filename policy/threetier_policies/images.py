"""Images are pinned: a tag other than ``latest``, or a digest."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .k8s import containers, describe, pod_spec


def image_problem(image: str) -> str | None:
    """Why ``image`` is not pinned, or None when it is."""
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "has no tag"
    if last.rsplit(":", 1)[1] == "latest":
        return "uses the mutable tag 'latest'"
    return None


def _validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    spec = pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    for container in containers(spec):
        image = str(container.get("image") or "")
        problem = image_problem(image) if image else "has no image"
        if problem:
            report_violation(
                f"{describe(args.resource_type, args.props)}, container {container.get('name')}: image "
                f"{image!r} {problem}. Fix: pin a version tag or digest, e.g. 'nginx:1.27.3'.",
                args.urn,
            )


images_pinned = ResourceValidationPolicy(
    name="images-pinned",
    description="Container images must be pinned to a version tag (not 'latest') or a digest.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate,
)
