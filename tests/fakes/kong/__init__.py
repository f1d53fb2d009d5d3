"""A faithful test double of Kong Gateway 3.9.3: its Admin API and its proxy, sharing one store."""

from .double import KongDouble

__all__ = ["KongDouble"]
