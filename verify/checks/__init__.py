"""The verifier's checks, one module per concern: per tier (context, tier) or stack-wide (context)."""

from .access import check_access
from .discovery import check_discovery
from .dns import check_dns
from .endpoints import check_endpoints
from .isolation import check_isolation
from .objects import check_objects
from .placement import check_placement
from .reachability import check_reachability

#: Checks of one exported tier.
TIER_CHECKS = (check_objects, check_endpoints, check_dns, check_discovery, check_reachability, check_placement)
#: Checks of the stack as a whole.
STACK_CHECKS = (check_isolation, check_access)

__all__ = [
    "STACK_CHECKS",
    "TIER_CHECKS",
    "check_access",
    "check_discovery",
    "check_dns",
    "check_endpoints",
    "check_isolation",
    "check_objects",
    "check_placement",
    "check_reachability",
]
