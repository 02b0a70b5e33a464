"""The organisation's CrossGuard policy pack for Kubernetes (``pulumi up --policy-pack policy``).

The pack judges Kubernetes objects as the pulumi-kubernetes provider sees them; it knows
nothing of the program that produced them. :mod:`policy.gate` runs it offline.
"""
