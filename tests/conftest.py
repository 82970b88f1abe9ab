"""Shared test settings."""

from __future__ import annotations

from pathlib import Path

PUBLIC_LOGS = Path(__file__).resolve().parents[2] / "shared" / "data" / "public-logs"
"""The real public logs: ../shared/data/public-logs relative to the clone (CI lays shared/
beside it). Tests fail, not skip, when they are missing."""
