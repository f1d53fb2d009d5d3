"""Dictionary backends and the one place that wires them from the configuration."""

from __future__ import annotations

from dictionary.backends.base import Dictionary
from dictionary.backends.fallback import FallbackDictionary
from dictionary.backends.upstream import UpstreamDictionary
from dictionary.config import Config


def build_dictionary(config: Config) -> Dictionary:
    """The backend that `DICTIONARY_BACKEND` asks for: upstream, wordnet, or auto (both)."""
    if config.backend == "upstream":
        return UpstreamDictionary(config)
    from dictionary.backends.wordnet import WordNetDictionary

    wordnet = WordNetDictionary(config.wordnet_path)
    if config.backend == "wordnet":
        return wordnet
    return FallbackDictionary(UpstreamDictionary(config), wordnet)


def members(backend: Dictionary) -> tuple[Dictionary, ...]:
    """The plain backends inside `backend` (itself unless it is a chain)."""
    if isinstance(backend, FallbackDictionary):
        return backend.members
    return (backend,)
