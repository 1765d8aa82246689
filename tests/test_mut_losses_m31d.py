"""Tests written from the survivors of issue 31's third-round mutation samples of losses/ (branch m31d)."""
