"""Cellular kinetics and tumour models: simulate, fit, populations (see docs/kinetics.md)."""
