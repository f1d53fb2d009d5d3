"""Errors the provisioning tool reports as one line and a distinct exit code (never a traceback)."""

from __future__ import annotations


class ProvisionError(Exception):
    """Base class: `str(error)` is the one-line message, `exit_code` what the CLI returns."""

    exit_code = 1


class ConfigError(ProvisionError):
    """The declared gateway file (or an override) is unusable."""

    exit_code = 2


class KongUnreachable(ProvisionError):
    """No usable Kong Admin API at the given URL (down, wrong URL, not ready in time)."""

    exit_code = 3


class KongDbless(ProvisionError):
    """Kong runs without a database, so its Admin API is read-only."""

    exit_code = 4


class KongRejected(ProvisionError):
    """Kong answered a request with 4xx/5xx; the message is Kong's own."""

    exit_code = 1


class KongNotPropagated(ProvisionError):
    """Kong's workers did not all serve a change within the time Kong itself needs."""

    exit_code = 5
