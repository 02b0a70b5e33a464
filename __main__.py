"""The three-tier app stack: read config -> build the app -> export its outputs (components.program)."""

from components.program import three_tier_program
from components.settle import settle_outputs_at_end

three_tier_program()
settle_outputs_at_end()  # wait for its outputs in linear time (components.settle)
