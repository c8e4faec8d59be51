"""The mechanisms of model.md, one module each. A mechanism reads the state, the instruments
of the month and the parameters, and returns named flows; it never changes the state, opens a
file or prints. The engine applies the flows and checks the balances (``engine/schedule.py``).
"""
