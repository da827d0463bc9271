"""Content from data/: guide packs, the FAQ and document templates, loaded and checked at start-up.

A broken file stops start-up with one line that names the file and the place in it.
"""


class ContentError(Exception):
    """A content file is missing, malformed or inconsistent; the message says where."""
