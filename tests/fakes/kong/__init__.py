"""A faithful test double of Kong Gateway 3.9.3 (Admin API now; the proxy comes with issue 6)."""

from .double import KongDouble

__all__ = ["KongDouble"]
