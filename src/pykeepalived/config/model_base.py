"""``@model``: the dataclass decorator of every configuration model class.

``dataclasses`` writes and compiles the source of ``__init__``, ``__repr__`` and ``__eq__``
for each class as it is defined. For the model's fifty classes that was two thirds of
the time ``import pykeepalived.config`` takes, and so of ``pykeepalived -t``'s start-up.
``@model`` gives every class the same ``__eq__``, ``__repr__`` and ``__hash__``, which read
the class's fields when called. They behave as the generated ones: equal when of the same
class with equal fields, ``Name(field=value, ...)``, unhashable unless frozen.

``__init__`` is the one ``dataclasses`` writes (it is what makes building objects fast),
but it is written when the class is first instantiated, not when it is defined: a
configuration uses a handful of the model's classes, and only those pay for it. Until then
the class's ``__init__`` is a stand-in that makes the real one, puts it in its place and
calls it.
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
from operator import attrgetter
from types import MemberDescriptorType
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


def _lazy_init(cls: type, frozen: bool) -> Callable[..., None]:
    """The stand-in ``__init__`` of ``cls`` until its first instance is made."""

    def __init__(self: object, *args: Any, **kwargs: Any) -> None:
        real = _dataclass_init(cls, frozen)
        cls.__init__ = real  # type: ignore[misc]
        real(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


class _Factory:
    """The default of a parameter whose field has a ``default_factory`` (shown as
    ``dataclasses`` shows it): the caller left it out, so the factory is called."""

    def __repr__(self) -> str:
        return "<factory>"


_NO_ARG = _Factory()


def _dataclass_init(cls: type, frozen: bool) -> Callable[..., None]:
    """The ``__init__`` ``@dataclass`` writes for ``cls``, written the same way.

    Parameters in field order, the ``kw_only`` ones after a ``*``; a default is the
    parameter's default, a ``default_factory`` is called when the parameter is left out
    (or always, for a field with ``init=False``); frozen classes set fields through
    their slots' descriptors (``object.__setattr__`` when a field has no slot, as
    ``dataclasses`` does it: the descriptor's own ``__set__`` took half the time, 0.1 us a
    field, and the model makes a frozen Location for thousands of lines); ``__post_init__``
    is called last when the class has one.
    (``dataclasses.make_dataclass`` would write the same, but took about 1 ms a class.)
    """
    names: dict[str, Any] = {"_NO_ARG": _NO_ARG, "_object": object}
    positional: list[str] = []
    keyword: list[str] = []
    body: list[str] = []
    for n, f in enumerate(dataclasses.fields(cls)):
        if f.default is not dataclasses.MISSING:
            names[f"_d{n}"] = f.default
            param, value = f"{f.name}=_d{n}", f.name if f.init else f"_d{n}"
        elif f.default_factory is not dataclasses.MISSING:
            names[f"_f{n}"] = f.default_factory
            param = f"{f.name}=_NO_ARG"
            value = (f"_f{n}() if {f.name} is _NO_ARG else {f.name}" if f.init
                     else f"_f{n}()")
        else:
            param, value = f.name, f.name
        if f.init:
            (keyword if f.kw_only else positional).append(param)
        elif value == f.name:
            continue  # init=False and nothing to set it to: left unset, as dataclasses does
        if not frozen:
            body.append(f"self.{f.name} = {value}")
            continue
        slot = getattr(cls, f.name, None)
        if isinstance(slot, MemberDescriptorType):
            names[f"_s{n}"] = slot.__set__
            body.append(f"_s{n}(self, {value})")
        else:
            body.append(f"_object.__setattr__(self, {f.name!r}, {value})")
    if hasattr(cls, "__post_init__"):
        body.append("self.__post_init__()")
    params = ", ".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    source = f"def __init__({params}):\n    " + "\n    ".join(body or ["pass"]) + "\n"
    exec(source, names)  # our own text, made of field names
    init: Callable[..., None] = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


@overload
def model(cls: type[_T], /) -> type[_T]: ...


@overload
def model(*, frozen: bool = False, kw_only: bool = False,
          slots: bool = True) -> Callable[[type[_T]], type[_T]]:
    ...


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def model(cls: type[_T] | None = None, /, *, frozen: bool = False, kw_only: bool = False,
          slots: bool = True) -> type[_T] | Callable[[type[_T]], type[_T]]:
    """``@dataclass(slots=True)`` (``slots=False`` for a class that takes attributes of its
    own) with shared ``__eq__``/``__repr__``/``__hash__`` and an ``__init__`` written at
    the first instance."""

    def wrap(klass: type[_T]) -> type[_T]:
        made = dataclasses.dataclass(klass, slots=slots, frozen=frozen, kw_only=kw_only,
                                     init=False, eq=False, repr=False)
        fields = dataclasses.fields(made)  # type: ignore[arg-type]
        if len(fields) != len(made.__dataclass_fields__):  # type: ignore[attr-defined]
            raise TypeError(f"@model {made.__qualname__}: ClassVar and InitVar fields are not "
                            "supported (the lazily written __init__ would not know them)")
        made.__init__ = _lazy_init(made, frozen)  # type: ignore[method-assign]
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
