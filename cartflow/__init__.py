"""cartflow: CAR-T cell therapy from vein to vein."""

__version__ = "0.1.0"
