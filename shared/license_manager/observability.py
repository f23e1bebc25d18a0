"""Structured logging shared by every layer (settings come from POWERTOOLS_* variables)."""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger(service="license-manager")
