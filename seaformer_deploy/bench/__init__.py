"""Benchmarking exported models: ``runner.benchmark`` on a device (``devices/``), reports (``report``).

Kept empty of imports on purpose: reading a bench report must not load a runtime.
"""
