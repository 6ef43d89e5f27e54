"""Embedded demo data: a synthetic Region Sjælland, generated deterministically."""

from .demo import DEMO_SOURCE, make_demo, make_demo_results, write_demo_inputs

__all__ = ["DEMO_SOURCE", "make_demo", "make_demo_results", "write_demo_inputs"]
