"""The rules of CAR-T therapy: pure Python, no framework, no database, no clock.

The product catalog is loaded at the edge (``cartflow.catalog_file``) and passed in;
time is passed in as an argument.
"""
