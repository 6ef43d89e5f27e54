"""Engines that run the analysis somewhere else than in one process.

:mod:`coverage_gap.engine.dask` runs it on a dask cluster for inputs larger than memory
(``coverage-gap run CONFIG --engine dask``); :mod:`coverage_gap.engine.partitions` holds
the work done on one partition or one hash bucket, in plain pandas and numpy, so that
the engine only schedules it. Neither is imported by ``import coverage_gap``, and dask
itself only when a run asks for it (``pip install coverage_gap[dask]``).
"""
