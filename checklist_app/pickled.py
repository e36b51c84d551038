"""Files this program pickles for itself (the facts cache, the rules cache): written atomically,
and read back only when they carry the format they were written with; a file that does not load
or carries another format reads as None, and is written anew."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any


def read_pickled(path: Path, form: object) -> Any:
    """The value kept at `path` in format `form`, or None."""
    try:
        with open(path, "rb") as handle:
            data: Any = pickle.load(handle)  # noqa: S301 - a file this program wrote
    except (OSError, pickle.PickleError, EOFError, AttributeError, ValueError, TypeError,
            ImportError, IndexError, KeyError):
        return None
    if not isinstance(data, tuple) or len(data) != 2 or data[0] != form:
        return None
    return data[1]


def write_pickled(path: Path, form: object, value: Any) -> None:
    """Keep `value` at `path` in format `form`: written to a new file that then replaces the old
    one, so a reader never sees half a file. Failing to write is not an error (it is a cache)."""
    import tempfile  # here: a run that writes nothing does without

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as stream:
            pickle.dump((form, value), stream, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except (OSError, pickle.PicklingError):
        try:
            os.unlink(temporary)
        except OSError:
            pass
