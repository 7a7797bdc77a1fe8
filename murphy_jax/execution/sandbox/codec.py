"""Value codec between the judge and the candidate: plain data by value, everything else by reference.

The judge never unpickles or evaluates anything the candidate sends. A decoded value is
built from a JSON tree by trusted code and can only be one of the types below, so an
object whose ``__eq__`` always returns True cannot cross the boundary: it arrives as an
opaque handle that compares equal to nothing but itself.

Tree format (a JSON object always carries exactly one tag key):

- ``null``/``true``/``false``/numbers/strings: themselves; JSON arrays: lists
- ``{"t": [...]}`` tuple, ``{"s": [...]}`` set, ``{"f": [...]}`` frozenset,
  ``{"d": [[k, v], ...]}`` dict, ``{"b": b64}`` bytes, ``{"B": b64}`` bytearray,
  ``{"c": [re, im]}`` complex, ``{"I": hex}`` int too long for decimal JSON,
  ``{"r": [start, stop, step]}`` range, ``{"D": str}`` Decimal, ``{"Q": [n, d]}`` Fraction,
  ``{"dt": [kind, iso]}`` date/time/datetime, ``{"td": [d, s, us]}`` timedelta,
  ``{"od"|"dd"|"C": pairs}`` OrderedDict/defaultdict/Counter, ``{"q": [items, maxlen]}`` deque,
  ``{"nt": [name, fields, items]}`` namedtuple, ``{"nd": [dtype, shape, b64]}`` numeric numpy array
- ``{"h": ...}`` a handle to an object living on the other side (see the agent and proxies)
- ``{"o": [class_name, [[attr, value], ...]]}`` an instance of a test-defined class, by value
- ``{"m": name}`` an importable module; ``{"m": [module, qualname]}`` a class or function of one
- ``{"@": n}`` the n-th mutable container of this message (pre-order), for aliasing and cycles
"""
from __future__ import annotations

import base64
import collections
import datetime
import decimal
import fractions

NoneType = type(None)
ATOMS = frozenset({NoneType, bool, int, float, str})
_FAST = frozenset({NoneType, bool, float, str})
_INT_LIMIT = 1 << 12000  # ints beyond ~3600 digits travel as hex (decimal JSON is capped at 4300 digits)
MAX_DEPTH = 200
MAX_NODES = 2_000_000
_DT_KINDS = {"datetime": datetime.datetime, "date": datetime.date, "time": datetime.time}
_ND_KINDS = frozenset("biufc")


class EncodeError(TypeError):
    """The value cannot be sent across the boundary (type, size or depth)."""


class DecodeError(ValueError):
    """A tree from the other side is malformed."""


class Encoder:
    """Turn a Python value into a JSON tree; ``on_object`` handles anything not plain.

    ``on_object(encoder, obj, depth)`` returns a tree node or raises EncodeError. Seeding the
    memo with objects makes later references to them come out as ``{"@": n}``.
    """

    def __init__(self, on_object=None, seed=()):
        self.on_object = on_object
        self.memo: dict[int, int] = {}
        self.keep: list = []
        self.nodes = 0
        for obj in seed:
            self.enter(obj)

    def enter(self, obj):
        """Register a mutable container; returns a back-reference node if it was seen before."""
        key = id(obj)
        idx = self.memo.get(key)
        if idx is not None:
            return {"@": idx}
        self.memo[key] = len(self.keep)
        self.keep.append(obj)
        return None

    def encode(self, x, depth: int = 0):
        """Encode one value."""
        t = type(x)
        if t in _FAST:
            return x
        if t is int:
            return x if -_INT_LIMIT < x < _INT_LIMIT else {"I": hex(x)}
        self.nodes += 1
        if depth > MAX_DEPTH or self.nodes > MAX_NODES:
            raise EncodeError("value is nested too deeply or is too large to transfer")
        d = depth + 1
        if t is list:
            ref = self.enter(x)
            if ref is not None:
                return ref
            kinds = set(map(type, x))
            if kinds <= _FAST or (kinds == {int} and x and -_INT_LIMIT < min(x) and max(x) < _INT_LIMIT):
                return list(x)
            return [self.encode(v, d) for v in x]
        if t is tuple:
            return {"t": [self.encode(v, d) for v in x]}
        if t is dict:
            ref = self.enter(x)
            return ref if ref is not None else {"d": self._pairs(x, d)}
        if t is set:
            ref = self.enter(x)
            return ref if ref is not None else {"s": [self.encode(v, d) for v in x]}
        if t is frozenset:
            return {"f": [self.encode(v, d) for v in x]}
        if t is bytes:
            return {"b": base64.b64encode(x).decode("ascii")}
        if t is bytearray:
            ref = self.enter(x)
            return ref if ref is not None else {"B": base64.b64encode(x).decode("ascii")}
        if t is complex:
            return {"c": [x.real, x.imag]}
        return self._other(x, t, d)

    def encode_state(self, obj, depth: int = 0):
        """Encode the contents of an already-registered mutable object (for post-call sync)."""
        d = depth + 1
        t = type(obj)
        if t is list:
            return [self.encode(v, d) for v in obj]
        if t is dict:
            return {"d": self._pairs(obj, d)}
        if t is set:
            return {"s": [self.encode(v, d) for v in obj]}
        if t is bytearray:
            return {"B": base64.b64encode(obj).decode("ascii")}
        state = getattr(obj, "__dict__", None)
        if isinstance(state, dict):
            return {"d": self._pairs(state, d)}
        return None

    def _pairs(self, mapping, d):
        return [[self.encode(k, d), self.encode(v, d)] for k, v in mapping.items()]

    def _other(self, x, t, d):
        # Subclasses of plain types (IntEnum, str enums, OrderedDict, ...) and a few trusted
        # standard-library value types are sent as their value; the rest goes to on_object.
        if t is range:
            return {"r": [x.start, x.stop, x.step]}
        if isinstance(x, bool):
            return bool(x)
        if isinstance(x, int):
            return self.encode(int.__int__(x), d)
        if isinstance(x, float):
            return float.__float__(x)
        if isinstance(x, str):
            return str.__str__(x)
        if isinstance(x, tuple):
            fields = getattr(t, "_fields", None)
            items = [self.encode(v, d) for v in tuple.__iter__(x)]
            if isinstance(fields, tuple) and all(isinstance(f, str) for f in fields):
                return {"nt": [t.__name__, list(fields), items]}
            return {"t": items}
        if isinstance(x, decimal.Decimal):
            return {"D": str(x)}
        if isinstance(x, fractions.Fraction):
            return {"Q": [self.encode(x.numerator, d), self.encode(x.denominator, d)]}
        if isinstance(x, (datetime.date, datetime.time)):
            kind = "datetime" if isinstance(x, datetime.datetime) else "date" if isinstance(x, datetime.date) else "time"
            return {"dt": [kind, x.isoformat()]}
        if isinstance(x, datetime.timedelta):
            return {"td": [x.days, x.seconds, x.microseconds]}
        if isinstance(x, dict):
            ref = self.enter(x)
            if ref is not None:
                return ref
            tag = "C" if isinstance(x, collections.Counter) else "od" if isinstance(x, collections.OrderedDict) \
                else "dd" if isinstance(x, collections.defaultdict) else "d"
            return {tag: [[self.encode(k, d), self.encode(v, d)] for k, v in dict.items(x)]}
        if isinstance(x, collections.deque):
            ref = self.enter(x)
            return ref if ref is not None else {"q": [[self.encode(v, d) for v in x], x.maxlen]}
        if isinstance(x, list):
            ref = self.enter(x)
            return ref if ref is not None else [self.encode(v, d) for v in list.__iter__(x)]
        if isinstance(x, set):
            return {"s": [self.encode(v, d) for v in set.__iter__(x)]}
        if isinstance(x, frozenset):
            return {"f": [self.encode(v, d) for v in frozenset.__iter__(x)]}
        if isinstance(x, (bytes, bytearray)):
            return {"b": base64.b64encode(bytes(x)).decode("ascii")}
        if getattr(t, "__module__", "") == "numpy":
            node = _encode_numpy(self, x, d)
            if node is not None:
                return node
        if self.on_object is None:
            raise EncodeError(f"cannot transfer a value of type {t.__name__}")
        return self.on_object(self, x, d)


def _encode_numpy(enc: Encoder, x, d):
    kind = getattr(getattr(x, "dtype", None), "kind", None)
    if kind not in _ND_KINDS:
        return None
    if type(x).__name__ == "ndarray":
        return {"nd": [x.dtype.str, list(x.shape), base64.b64encode(x.tobytes()).decode("ascii")]}
    if hasattr(x, "item"):  # numpy scalar: its Python value (np.float64 -> float, np.bool_ -> bool)
        return enc.encode(x.item(), d)
    return None


class Decoder:
    """Build Python values from a JSON tree using trusted constructors only.

    ``on_handle(node)`` and ``on_object(decoder, node)`` resolve references to the other
    side's objects; without them such nodes are rejected. ``seed`` pre-registers objects so
    ``{"@": n}`` can point at them (post-call sync of mutated arguments).
    """

    def __init__(self, on_handle=None, on_object=None, seed=(), on_module=None):
        self.on_handle = on_handle
        self.on_object = on_object
        self.on_module = on_module
        self.memo: list = list(seed)

    def register(self, obj) -> int:
        """Give a freshly built container the next memo slot."""
        self.memo.append(obj)
        return len(self.memo) - 1

    def decode(self, node, depth: int = 0):
        """Decode one tree node."""
        t = type(node)
        if t is list:
            out = []
            self.register(out)
            kinds = set(map(type, node))
            if list in kinds or dict in kinds:
                out.extend(self.decode(v, depth + 1) for v in node)
            else:
                out.extend(node)
            return out
        if t is not dict:
            return node
        if depth > MAX_DEPTH * 2:
            raise DecodeError("tree nested too deeply")
        if len(node) != 1:
            raise DecodeError("a tagged node must have exactly one key")
        (tag, v), = node.items()
        fn = _DECODERS.get(tag)
        if fn is None:
            raise DecodeError(f"unknown tag {tag!r}")
        try:
            return fn(self, v, depth + 1)
        except DecodeError:
            raise
        except (TypeError, ValueError, KeyError, IndexError, OverflowError, decimal.InvalidOperation) as e:
            raise DecodeError(f"bad {tag!r} node: {e}") from None

    def decode_state(self, node):
        """Decode what ``Encoder.encode_state`` wrote, without giving the container a memo slot."""
        try:
            if type(node) is list:
                return [self.decode(v, 1) for v in node]
            if type(node) is dict and len(node) == 1:
                (tag, v), = node.items()
                if tag == "d":
                    return dict(self.pairs(v, 1))
                if tag == "s":
                    return set(self.items(v, 1))
                if tag == "B":
                    return base64.b64decode(v, validate=True)
        except (TypeError, ValueError) as e:
            raise DecodeError(f"bad state node: {e}") from None
        raise DecodeError("bad state node")

    def items(self, v, depth):
        """Decode a list of nodes without registering the list itself."""
        if type(v) is not list:
            raise DecodeError("expected a list")
        return [self.decode(x, depth) for x in v]

    def pairs(self, v, depth):
        """Decode ``[[k, v], ...]``."""
        if type(v) is not list:
            raise DecodeError("expected a list of pairs")
        out = []
        for p in v:
            if type(p) is not list or len(p) != 2:
                raise DecodeError("expected a [key, value] pair")
            out.append((self.decode(p[0], depth), self.decode(p[1], depth)))
        return out


def _dec_ref(dec: Decoder, v, depth):
    if type(v) is not int or not 0 <= v < len(dec.memo):
        raise DecodeError(f"bad back-reference {v!r}")
    return dec.memo[v]


def _mapping(factory):
    def build(dec: Decoder, v, depth):
        out = factory()
        dec.register(out)
        for k, val in dec.pairs(v, depth):
            out[k] = val
        return out
    return build


def _dec_set(dec: Decoder, v, depth):
    out = set()
    dec.register(out)
    out.update(dec.items(v, depth))
    return out


def _dec_bytearray(dec: Decoder, v, depth):
    out = bytearray(base64.b64decode(v, validate=True))
    dec.register(out)
    return out


def _dec_deque(dec: Decoder, v, depth):
    items, maxlen = v
    if maxlen is not None and type(maxlen) is not int:
        raise DecodeError("deque maxlen must be an int")
    out = collections.deque(maxlen=maxlen)
    dec.register(out)
    out.extend(dec.items(items, depth))
    return out


def _dec_big_int(dec, v, depth):
    if type(v) is not str or len(v) > 4_000_000:
        raise DecodeError("bad big int")
    return int(v, 16)


def _dec_complex(dec, v, depth):
    re, im = v
    if type(re) not in (int, float) or type(im) not in (int, float):
        raise DecodeError("complex parts must be numbers")
    return complex(re, im)


def _dec_range(dec, v, depth):
    if type(v) is not list or len(v) != 3 or any(type(x) is not int for x in v):
        raise DecodeError("range needs three ints")
    return range(*v)


def _dec_fraction(dec, v, depth):
    n, d = (dec.decode(x, depth) for x in v)
    if type(n) is not int or type(d) is not int:
        raise DecodeError("fraction parts must be ints")
    return fractions.Fraction(n, d)


def _dec_datetime(dec, v, depth):
    kind, iso = v
    if kind not in _DT_KINDS or type(iso) is not str or len(iso) > 64:
        raise DecodeError("bad date/time")
    return _DT_KINDS[kind].fromisoformat(iso)


def _dec_timedelta(dec, v, depth):
    if type(v) is not list or len(v) != 3 or any(type(x) is not int for x in v):
        raise DecodeError("timedelta needs three ints")
    return datetime.timedelta(days=v[0], seconds=v[1], microseconds=v[2])


_NT_CACHE: dict = {}


def _dec_namedtuple(dec, v, depth):
    name, fields, items = v
    values = dec.items(items, depth)
    key = (name, tuple(fields)) if type(name) is str and type(fields) is list else None
    cls = _NT_CACHE.get(key) if key else None
    if cls is None and key is not None:
        try:
            cls = collections.namedtuple(name, fields)
        except (TypeError, ValueError):
            cls = None
        if cls is not None and len(_NT_CACHE) < 1000:
            _NT_CACHE[key] = cls
    if cls is None or len(values) != len(cls._fields):
        return tuple(values)
    return cls(*values)


def _dec_ndarray(dec, v, depth):
    dtype, shape, data = v
    import numpy as np  # only when a test really exchanges arrays

    dt = np.dtype(dtype)
    if dt.kind not in _ND_KINDS or dt.hasobject:
        raise DecodeError(f"array dtype {dtype!r} is not numeric")
    if type(shape) is not list or any(type(s) is not int or s < 0 for s in shape):
        raise DecodeError("bad array shape")
    return np.frombuffer(base64.b64decode(data, validate=True), dtype=dt).reshape(shape).copy()


def _dec_handle(dec: Decoder, v, depth):
    if dec.on_handle is None:
        raise DecodeError("handles are not accepted here")
    return dec.on_handle(v)


def _dec_object(dec: Decoder, v, depth):
    if dec.on_object is None:
        raise DecodeError("objects are not accepted here")
    return dec.on_object(dec, v, depth)


def _dec_module(dec: Decoder, v, depth):
    if dec.on_module is None or type(v) not in (str, list):
        raise DecodeError("modules are not accepted here")
    return dec.on_module(v)


_DECODERS = {
    "@": _dec_ref,
    "t": lambda dec, v, depth: tuple(dec.items(v, depth)),
    "d": _mapping(dict),
    "od": _mapping(collections.OrderedDict),
    "dd": _mapping(lambda: collections.defaultdict(None)),
    "C": _mapping(collections.Counter),
    "s": _dec_set,
    "f": lambda dec, v, depth: frozenset(dec.items(v, depth)),
    "b": lambda dec, v, depth: base64.b64decode(v, validate=True),
    "B": _dec_bytearray,
    "c": _dec_complex,
    "I": _dec_big_int,
    "r": _dec_range,
    "D": lambda dec, v, depth: decimal.Decimal(v) if type(v) is str and len(v) < 10_000 else _bad("Decimal"),
    "Q": _dec_fraction,
    "dt": _dec_datetime,
    "td": _dec_timedelta,
    "q": _dec_deque,
    "nt": _dec_namedtuple,
    "nd": _dec_ndarray,
    "h": _dec_handle,
    "o": _dec_object,
    "m": _dec_module,
}


def _bad(what):
    raise DecodeError(f"bad {what}")


def restore_state(target, new) -> None:
    """Overwrite a mutable object's contents in place with a decoded post-call state."""
    if type(target) is list and type(new) is list:
        target[:] = new
    elif isinstance(target, dict) and isinstance(new, dict):
        target.clear()
        target.update(new)
    elif isinstance(target, set) and isinstance(new, set):
        target.clear()
        target.update(new)
    elif isinstance(target, bytearray) and isinstance(new, (bytes, bytearray)):
        target[:] = new
    elif isinstance(new, dict) and isinstance(getattr(target, "__dict__", None), dict):
        target.__dict__.clear()
        target.__dict__.update(new)
    else:
        raise DecodeError(f"cannot restore a {type(target).__name__} from a {type(new).__name__}")
