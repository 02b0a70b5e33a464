"""The verifier's checks, one module per concern, each a function of (context, tier)."""

from .discovery import check_discovery
from .dns import check_dns
from .endpoints import check_endpoints
from .objects import check_objects
from .reachability import check_reachability

ALL_CHECKS = (check_objects, check_endpoints, check_dns, check_discovery, check_reachability)

__all__ = ["ALL_CHECKS", "check_discovery", "check_dns", "check_endpoints", "check_objects", "check_reachability"]
