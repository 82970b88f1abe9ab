"""Conformance checking of event logs against the procedure model."""
