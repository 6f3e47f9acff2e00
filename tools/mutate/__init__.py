"""Automatic hardware mutation testing (issue 3, part 5): mutants of the core's PyRTL
netlist (``netlist``) and the runner that tries to kill them (``run``)."""
