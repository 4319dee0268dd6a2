"""``@model``: the model's classes behave as ``@dataclass(slots=True)`` classes, with an
``__init__`` written at their first instance instead of at import."""

from __future__ import annotations

import dataclasses
import inspect
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pykeepalived.config.model_base import model

SRC = str(Path(__file__).resolve().parents[3] / "src")


def _params(init: Any) -> list[tuple[str, Any, str]]:
    """An ``__init__``'s parameters as (name, kind, default as shown)."""
    return [(p.name, p.kind, repr(p.default)) for p in
            inspect.signature(init).parameters.values()]


def _values(obj: object) -> list[Any]:
    return [getattr(obj, f.name, "<unset>") for f in dataclasses.fields(obj)]  # type: ignore[arg-type]


def _post(self: Any) -> None:
    self.total = self.a + len(self.b)


def _pair(**flags: Any) -> tuple[type[Any], type[Any]]:
    """The same class under @dataclass(slots=True) and under @model."""
    out = []
    for deco in (dataclass(slots=True, **flags), model(**flags)):
        class Sample:
            """Every kind of field ``__init__`` treats apart."""

            a: int
            b: list[str] = field(default_factory=list)
            c: str = "x"
            d: int = field(default=7, init=False)
            e: list[int] = field(default_factory=lambda: [1], init=False)
            f: int = field(default=3, kw_only=True)
            g: str = field(default="g", kw_only=True, repr=False, compare=False)
            total: int = field(default=0, init=False)
            unset: int = field(init=False)

        out.append(deco(Sample))
    return out[0], out[1]


@pytest.mark.parametrize("flags", [{}, {"frozen": True}, {"kw_only": True}])
def test_lazy_init_is_the_dataclass_init(flags: dict[str, Any]) -> None:
    generated, lazy = _pair(**flags)
    assert "<string>" not in lazy.__init__.__code__.co_filename  # the stand-in, not yet made
    args: tuple[Any, ...] = () if flags.get("kw_only") else (1, ["p"], "y")
    kwargs: dict[str, Any] = {"a": 1, "b": ["p"], "c": "y"} if flags.get("kw_only") else {}
    one, two = generated(*args, f=4, **kwargs), lazy(*args, f=4, **kwargs)
    assert _values(one) == _values(two)
    assert _params(generated.__init__)[1:] == _params(lazy.__init__)[1:]
    assert lazy.__init__.__qualname__ == "_pair.<locals>.Sample.__init__"
    # each instance gets a fresh value from each factory
    three, four = lazy(a=1), lazy(a=1)
    assert three.b == [] and three.b is not four.b
    assert three.e == [1] and three.e is not four.e
    for cls in (generated, lazy):
        with pytest.raises(TypeError):
            cls()  # "a" is missing
        with pytest.raises(TypeError):
            cls(*args, d=1, **kwargs)  # init=False
        if not flags.get("kw_only"):
            with pytest.raises(TypeError):
                cls(1, [], "y", 4)  # f is keyword-only
    if flags.get("frozen"):
        with pytest.raises(dataclasses.FrozenInstanceError):
            two.a = 2


def test_lazy_init_calls_post_init_and_serves_subclasses() -> None:
    @model
    class Base:
        """A base with a __post_init__."""

        a: int
        b: list[str] = field(default_factory=list)
        total: int = field(default=0, init=False)

        __post_init__ = _post

    @model
    class Derived(Base):
        """A subclass with a field of its own."""

        extra: str = "e"

    class Plain(Base):
        """Not a model class: it inherits Base's __init__."""

    derived = Derived(2, ["x", "y"], "z")
    assert (derived.a, derived.b, derived.extra, derived.total) == (2, ["x", "y"], "z", 4)
    assert Plain(1).total == 1 and "<string>" in Base.__init__.__code__.co_filename
    assert dataclasses.replace(derived, a=5).total == 7  # replace builds through __init__


def test_frozen_subclass_sets_inherited_slots() -> None:
    """A frozen class sets its fields through their slots, its base's included."""

    @model(frozen=True)
    class Where:
        """A frozen base."""

        file: str
        line: int = 0

    @model(frozen=True)
    class Span(Where):
        """A frozen subclass with a field of its own."""

        end: int = 0

    span = Span("k.conf", 3, 5)
    assert (span.file, span.line, span.end) == ("k.conf", 3, 5)
    assert span == Span("k.conf", 3, 5) and hash(span) == hash(Span("k.conf", 3, 5))
    assert Where("a") == Where("a", 0) != Where("a", 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        span.file = "other"  # type: ignore[misc]


def test_model_classes_have_their_own_docstrings() -> None:
    # a class without one gets a docstring from dataclasses, which builds it from
    # inspect.signature() at import (and, with the stand-in __init__, a wrong one)
    from pykeepalived.config import model, model_common, model_global, model_lvs, model_vrrp

    modules = (model, model_common, model_global, model_lvs, model_vrrp)
    classes = list({v for m in modules for v in vars(m).values() if isinstance(v, type)
                    and dataclasses.is_dataclass(v) and v.__module__.startswith("pykeepalived.")})
    assert len(classes) > 40
    missing = sorted(c.__name__ for c in classes if (c.__doc__ or "").startswith(c.__name__ + "("))
    assert not missing


def test_import_writes_no_model_init() -> None:
    # importing the configuration package compiles no __init__ of a class not yet used
    code = ("import dataclasses, pykeepalived.config.model as m\n"
            "made = sorted(v.__name__ for v in vars(m).values() if isinstance(v, type) and "
            "dataclasses.is_dataclass(v) and v.__module__.startswith('pykeepalived.config.model')"
            " and '<string>' in v.__init__.__code__.co_filename)\n"
            "print(' '.join(made))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=dict(os.environ, PYTHONPATH=SRC))
    assert proc.returncode == 0, proc.stderr[-2000:]
    made = proc.stdout.split()
    # Location is instantiated at import (NOWHERE); KeepalivedConfig and LoadResult are
    # plain dataclasses
    assert set(made) <= {"Location", "KeepalivedConfig", "LoadResult"}, made


def test_configuration_classes_share_eq_and_repr() -> None:
    # every dataclass -t makes (the lexer and its lines, the walker's frames and context,
    # the keyword tables, diagnostics, the model) is a @model class: no __eq__/__repr__
    # compiled per class
    # the package loads its names on first use: the loader imports every module -t uses
    from pykeepalived.config import loader, model_base

    assert loader.load_config  # the import above is what this test needs

    classes = {v for name, module in sys.modules.items()
               if name.startswith("pykeepalived.config.") for v in vars(module).values()
               if isinstance(v, type) and dataclasses.is_dataclass(v)
               and v.__module__ == name}
    assert {"Node", "Keyword", "Diagnostic", "LoadResult", "VrrpInstance", "Lexer", "Ctx",
            "SystemInfo"} <= {c.__name__ for c in classes}
    generated = sorted(c.__name__ for c in classes if c.__eq__ is not model_base._eq)
    assert not generated


def test_unslotted_model_takes_attributes_of_its_own() -> None:
    @model(slots=False)
    class Open:
        """A model class without __slots__."""

        a: int = 1
        b: list[int] = field(default_factory=list)

    one = Open()
    one.extra = 5  # type: ignore[attr-defined]
    assert (one.a, one.b, one.extra) == (1, [], 5)  # type: ignore[attr-defined]
    assert one == Open() and repr(one).endswith("Open(a=1, b=[])")
    assert not hasattr(Open, "__slots__")
