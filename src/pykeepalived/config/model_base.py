"""``@model``: the dataclass decorator of every configuration model class.

``dataclasses`` writes and compiles the source of ``__init__``, ``__repr__`` and ``__eq__``
for each class as it is defined. For the model's fifty classes that was two thirds of
the time ``import pykeepalived.config`` takes, and so of ``pykeepalived -t``'s start-up.
``@model`` keeps the generated ``__init__`` (it is what makes building objects fast) and
gives every class the same ``__eq__``, ``__repr__`` and ``__hash__``, which read the
class's fields when called. They behave as the generated ones: equal when of the same
class with equal fields, ``Name(field=value, ...)``, unhashable unless frozen.
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform, overload

_T = TypeVar("_T")


def _values(obj: object, names: str) -> tuple[Any, ...]:
    """The values of the fields named in the class attribute ``names``, as a tuple."""
    getter: Callable[[object], tuple[Any, ...]] = getattr(type(obj), names)
    return getter(obj)


def _tuple_getter(names: list[str]) -> Callable[[object], tuple[Any, ...]]:
    if not names:
        return lambda _obj: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return attrgetter(*names)


def _eq(self: object, other: object) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented  # type: ignore[no-any-return]
    same: bool = _values(self, "_model_compared") == _values(other, "_model_compared")
    return same


def _hash(self: object) -> int:
    return hash(_values(self, "_model_compared"))


@reprlib.recursive_repr()
def _repr(self: object) -> str:
    shown = ", ".join(f"{name}={value!r}" for name, value in
                      zip(type(self)._model_shown, _values(self, "_model_shown_values"),  # type: ignore[attr-defined]
                          strict=True))
    return f"{self.__class__.__qualname__}({shown})"


@overload
def model(cls: type[_T], /) -> type[_T]: ...


@overload
def model(*, frozen: bool = False, kw_only: bool = False) -> Callable[[type[_T]], type[_T]]:
    ...


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def model(cls: type[_T] | None = None, /, *, frozen: bool = False,
          kw_only: bool = False) -> type[_T] | Callable[[type[_T]], type[_T]]:
    """``@dataclass(slots=True)`` with shared ``__eq__``/``__repr__``/``__hash__``."""

    def wrap(klass: type[_T]) -> type[_T]:
        made = dataclasses.dataclass(klass, slots=True, frozen=frozen, kw_only=kw_only,
                                     eq=False, repr=False)
        fields = dataclasses.fields(made)  # type: ignore[arg-type]
        compared = [f.name for f in fields if f.compare]
        shown = [f.name for f in fields if f.repr]
        made._model_compared = _tuple_getter(compared)  # type: ignore[attr-defined]
        made._model_shown = tuple(shown)  # type: ignore[attr-defined]
        made._model_shown_values = _tuple_getter(shown)  # type: ignore[attr-defined]
        made.__eq__ = _eq  # type: ignore[method-assign]
        made.__repr__ = _repr  # type: ignore[method-assign]
        made.__hash__ = _hash if frozen else None  # type: ignore[assignment,method-assign]
        return made

    return wrap if cls is None else wrap(cls)
