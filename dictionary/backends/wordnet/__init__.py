"""The embedded dictionary: Princeton WordNet 3.0, compiled to SQLite at build time.

`compiler` turns Debian's wordnet-base files into the database (build time only);
`WordNetDictionary` serves lookups from it (run time only).
"""

from .backend import WordNetDictionary

__all__ = ["WordNetDictionary"]
