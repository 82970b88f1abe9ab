"""Calibration: where each number of a scenario comes from, estimating numbers from a
partnership's own event log, and checking a scenario against a log it was not fitted to.

- ``simulation.calibration.ledger``: the ledger stored in a scenario file (estimated,
  published or assumed, for every field).
- ``simulation.calibration.calibrate``: a scenario estimated from an event log (its front; the
  modules ``estimate``, ``lags``, ``refine``, ``scenario_file``, ``fitting`` and ``flow`` do
  the work).
- ``simulation.calibration.validate``: a scenario's simulated logs set beside a real one.
- ``simulation.calibration.distances``: the log distance measures of business-process-simulation
  research (the ``log-distance-measures`` package's definitions) on whole arrays.

The package imports nothing here, so that the scenario reader can use the ledger's checks
without loading the rest.
"""

__all__: list[str] = []  # the names live in the modules above, each with its own __all__
