"""Fast pickling for the frozen values kept in the facts cache."""

from __future__ import annotations

from typing import Any


class Packed:
    """A slotted dataclass that pickles as (class, field values).

    The default pickling of slotted objects goes through a state dict per object; a scan's
    cache holds hundreds of thousands of values, so this makes loading and saving it several
    times faster. Subclasses must be `@dataclass(frozen=True, slots=True)` with positional
    fields in slot order (the dataclass default).
    """

    __slots__ = ()

    def __reduce__(self) -> tuple[type[Any], tuple[Any, ...]]:
        slots: tuple[str, ...] = type(self).__slots__
        return type(self), tuple(getattr(self, name) for name in slots)
