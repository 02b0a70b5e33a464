"""The fleet program, as the language host runs it (``pulumi up`` in this directory, PYTHONPATH naming the clone)."""

from components.settle import settle_outputs_at_end
from examples.fleet.fleet import fleet_program

fleet_program()
settle_outputs_at_end()  # wait for its outputs in linear time (components.settle)
