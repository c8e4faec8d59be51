"""The engine: the monthly schedule, the run loop, the invariants."""
