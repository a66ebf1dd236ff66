"""The pure audit core: canonical model, lifecycle, topology, rules and verdicts.

No I/O, no clock, no network, no database: same input, same output.
"""
