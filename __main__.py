"""The three-tier app stack: read config -> build the app -> export its outputs (components.program)."""

from components.program import three_tier_program

three_tier_program()
