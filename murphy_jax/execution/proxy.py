"""Judge-side stand-ins for what lives in the candidate process: functions, classes, objects, exceptions.

A ``RemoteObject`` forwards calls, attribute access and the container protocol to the
candidate; what comes back is either plain data (decoded by trusted code) or another
handle. Comparisons are deliberately *not* forwarded: a handle equals only itself, and
ordering a handle is a TypeError. So a test's ``==`` is always decided by the judge's
own Python on plain values, never by candidate code.
"""
from __future__ import annotations

import builtins

_SNAPSHOT = [False]  # while True, repr() of a handle uses its snapshot (feedback must not call the candidate)
_EXC_CACHE: dict = {}
_UNSAFE_BASES = (KeyboardInterrupt, GeneratorExit)  # would abort the judge's own machinery if re-raised


class CandidateError:
    """Marker mixed into every exception class re-raised from the candidate (``murphy`` holds its info)."""

    __slots__ = ()
    murphy: dict = {}


def exception_class(name: str, base_name: str, ref=None) -> type:
    """A local exception class standing for the candidate's ``name`` (cached so ``except``/``raises`` match)."""
    key = (name, base_name)
    cls = _EXC_CACHE.get(key)
    if cls is None:
        base = getattr(builtins, base_name, None)
        if not (isinstance(base, type) and issubclass(base, BaseException)):
            base = Exception
        if issubclass(base, _UNSAFE_BASES):
            base = RuntimeError
        ns = {"__module__": "solution", "__str__": _exc_str, "__qualname__": name}
        try:
            cls = type(name if name.isidentifier() else "CandidateException", (base, CandidateError), ns)
        except TypeError:  # an exotic builtin base that refuses the mixin
            cls = type(name if name.isidentifier() else "CandidateException", (Exception, CandidateError), ns)
        _EXC_CACHE[key] = cls
    if ref is not None:
        cls._murphy_ref = ref  # (session id, incarnation, handle) of the candidate's class, to pass it back
    return cls


def _exc_str(self) -> str:
    return str(self.args[0]) if self.args else ""


def make_exception(info: dict) -> BaseException:
    """Build the local exception for a candidate exception described by ``info``."""
    name = str(info.get("type") or "Exception")
    cls = exception_class(name, str(info.get("base") or "Exception"))
    msg = str(info.get("msg", ""))
    try:
        exc = cls(msg)
    except Exception:
        exc = exception_class(name, "Exception")(msg)
    if issubclass(cls, SystemExit):
        exc.code = info.get("code")
    exc.murphy = dict(info)
    return exc


def snapshot_repr(value, cap: int = 2000) -> str:
    """repr() for feedback: plain values as Python shows them, handles by their snapshot, never calling the candidate."""
    _SNAPSHOT[0] = True
    try:
        text = repr(value)
    except BaseException as e:  # a test-defined object with a broken __repr__
        text = f"<unprintable {type(value).__name__}: {type(e).__name__}>"
    finally:
        _SNAPSHOT[0] = False
    return text if len(text) <= cap else text[: cap - 15] + " ... [truncated]"


class RemoteObject:
    """A handle to an object in the candidate process (bound to one incarnation, or to a global name)."""

    __slots__ = ("_sess", "_inc", "_hid", "_name", "_tname", "_repr", "_kind", "__weakref__")

    def __init__(self, sess, inc, hid, tname: str, rep: str, kind: str, name: str | None = None):
        object.__setattr__(self, "_sess", sess)
        object.__setattr__(self, "_inc", inc)
        object.__setattr__(self, "_hid", hid)
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_tname", tname)
        object.__setattr__(self, "_repr", rep)
        object.__setattr__(self, "_kind", kind)

    def _identity(self):
        return self._sess.resolve(self)

    # -- forwarded operations ----------------------------------------------------------------
    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # protocol probes (numpy, pickle, ...) must not reach the candidate
        return self._sess.op("getattr", self, n=name)

    def __setattr__(self, name, value):
        self._sess.op("setattr", self, (value,), n=name)

    def __delattr__(self, name):
        raise AttributeError(f"cannot delete attributes of a candidate object ({name})")

    def __call__(self, *args, **kwargs):
        return self._sess.call(self, args, kwargs)

    def __len__(self):
        return self._sess.op("len", self)

    def __iter__(self):
        return RemoteIterator(self._sess.op("iter", self))

    def __next__(self):
        return self._sess.op("next", self)

    def __getitem__(self, key):
        return self._sess.op("getitem", self, (key,))

    def __setitem__(self, key, value):
        self._sess.op("setitem", self, (key, value))

    def __delitem__(self, key):
        self._sess.op("delitem", self, (key,))

    def __contains__(self, item):
        return self._sess.op("contains", self, (item,))

    def __bool__(self):
        return self._sess.op("bool", self)

    def __str__(self):
        return self._repr if _SNAPSHOT[0] else self._sess.op("str", self)

    def __repr__(self):
        return self._repr if _SNAPSHOT[0] else self._sess.op("repr", self)

    def __instancecheck__(self, obj):
        return self._sess.op("isinstance", None, (obj, self))

    def __subclasscheck__(self, cls):
        return self._sess.op("issubclass", None, (cls, self))

    # -- decided locally ----------------------------------------------------------------------
    def __eq__(self, other):
        if not isinstance(other, RemoteObject):
            return False
        return other._sess is self._sess and other._identity() == self._identity()

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash((id(self._sess), self._identity()))

    def __lt__(self, other):
        return NotImplemented

    __le__ = __gt__ = __ge__ = __lt__


class RemoteIterator:
    """Iterates a candidate iterator, fetching items in growing batches (one first, so ``next()`` stays exact)."""

    def __init__(self, handle):
        self.handle = handle
        self.buffer: list = []
        self.batch = 1
        self.done = False

    def __iter__(self):
        return self

    def __next__(self):
        if not self.buffer:
            if self.done or not isinstance(self.handle, RemoteObject):
                raise StopIteration
            items, self.done = self.handle._sess.op("take", self.handle, (self.batch,))
            self.batch = min(self.batch * 4, 4096)
            self.buffer = list(reversed(items))
            if not self.buffer:
                raise StopIteration
        return self.buffer.pop()
