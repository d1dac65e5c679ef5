"""Vein-to-vein planning: the network's capacity, the planner, re-planning and the simulator.

Framework-free like ``cartflow.domain``: no Django, no database, no clock. Days are whole
days counted from an ``origin`` date the caller passes in; the catalog is passed in too.
Model, assumptions and benchmark figures: ``docs/scheduling.md``.
"""
