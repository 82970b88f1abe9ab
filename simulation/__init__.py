"""Caseload simulation of the procedure with SimPy."""
