"""Printed labels: what each label says (``content``) and its PDF (``pdf``)."""
