"""The fleet program, as the language host runs it (``pulumi up`` in this directory, PYTHONPATH naming the clone)."""

from examples.fleet.fleet import fleet_program

fleet_program()
