"""A candidate program loaded in function mode, as the judge's tests see it.

The session (re)starts the candidate process when needed, runs every request under the
current test's budget, converts values both ways with the codec, syncs arguments the
candidate mutated back into the test's own objects, replays the candidate's output into
the test's ``sys.stdout``/``sys.stderr`` (so ``capsys`` and ``redirect_stdout`` work), and
remembers the first fault of a test so no ``except`` in test code can hide it.
"""
from __future__ import annotations

import collections
import sys
import types

from .candidate import Budget, CandidateProcess, Fault, LoadFailure
from .proxy import CandidateError, RemoteObject, exception_class, make_exception
from .sandbox import codec, wire
from .sandbox.agent import library_path as _library_path

PREFETCH_BYTES = 48 << 10  # below the 64 KiB pipe buffer, so sending ahead never blocks


class Session:
    """One program in function mode, across however many processes its tests need."""

    def __init__(self, zyg, program: str, *, names, stdin_fd: int, program_cpu_s: float,
                 keep_bytes: int, output_limit: int, max_frame: int):
        self.zyg = zyg
        self.program = program
        self.names = sorted(set(names))
        self.stdin_fd = stdin_fd
        self.proc_args = dict(cpu_s=program_cpu_s, keep_bytes=keep_bytes, output_limit=output_limit,
                              max_frame=max_frame)
        self.proc: CandidateProcess | None = None
        self.inc = 0
        self.seq = 0
        self.budget: Budget | None = None
        self.fault: Fault | None = None
        self.globals: dict = {}  # name -> value (plain data, or a RemoteObject bound to the name)
        self.global_hids: dict[str, int] = {}
        self.handles: dict = {}
        self.byvalue: dict[str, type] = {}
        self.bv_sent: frozenset = frozenset()
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.keep = keep_bytes
        self.test = None  # which test the current budget belongs to
        self.pending: collections.deque = collections.deque()  # sent-ahead calls: (test, handle, args node, seq)

    # -- lifecycle ------------------------------------------------------------------------------
    def begin(self, cpu_s: float, wall_s: float, test=None) -> None:
        """Start a test's budget (the process is kept if it is healthy)."""
        self.fault = None
        self.test = test
        self.budget = Budget(cpu_s, wall_s, cpu_base=self.proc.last_cpu if self.proc else None)

    def end(self) -> Fault | None:
        """Finish a test; returns the fault it suffered, if any."""
        fault, self.fault = self.fault, None
        return fault

    def cpu_used(self) -> float | None:
        """CPU the candidate reported since the test began (None if unknown)."""
        if self.proc is None or self.budget is None or self.budget.cpu_base is None:
            return None
        return max(0.0, self.proc.last_cpu - self.budget.cpu_base)

    def load(self) -> None:
        """Start a process and load the program; LoadFailure or Fault on failure."""
        self.inc += 1
        self.handles.clear()
        self.global_hids.clear()
        proc = CandidateProcess(self.zyg, "function", self.stdin_fd, **self.proc_args)
        self.proc = proc
        try:
            proc.send({"program": self.program, "names": self.names, "bv": sorted(self.byvalue)}, self.budget)
            self.bv_sent = frozenset(self.byvalue)
            reply = proc.receive(None, self.budget)
        except Fault as f:
            self._drop(f)
            raise
        if self.budget.cpu_base is None:
            self.budget.cpu_base = 0.0
        if reply.get("op") != "loaded":
            self._drop(Fault("runtime_error", "the program broke the test protocol while loading"))
            raise self.fault
        if "syntax" in reply or "exc" in reply:
            info = reply.get("syntax") or reply.get("exc") or {}
            self._collect(proc)
            proc.kill()
            proc.close()
            self.proc = None
            raise _load_failure(reply, info)
        self.globals = {}
        for name, node in (reply.get("globals") or {}).items():
            try:
                value = self.decoder().decode(node)
            except codec.DecodeError:
                continue
            if isinstance(value, RemoteObject) and value._kind in ("class", "callable"):
                self.global_hids[name] = value._hid
                value = RemoteObject(self, None, None, value._tname, value._repr, value._kind, name=name)
            self.globals[name] = value

    def ensure(self) -> None:
        """Make sure a live process exists (a restart during a test counts against that test)."""
        if self.proc is None:
            try:
                self.load()
            except LoadFailure as e:
                self.fault = Fault(e.status, f"failed to restart: {e.message}")
                raise self.fault from None

    def close(self) -> None:
        """Stop the current process (the zygote's cleanup, which always follows a run, removes the rest)."""
        if self.proc is not None:
            self._collect(self.proc)
            self.proc.kill()
            self.proc.close()
            self.proc = None

    def _drop(self, fault: Fault) -> None:
        self.fault = fault
        self.pending.clear()
        if self.proc is not None:
            try:
                self.proc.drain()
            except Fault:
                pass
            self._collect(self.proc)
            self.proc.kill()
            self.proc.close()
            self.proc = None

    def _collect(self, proc: CandidateProcess) -> None:
        for mine, theirs in ((self.stdout, proc.stdout), (self.stderr, proc.stderr)):
            if len(mine) < self.keep:
                mine += theirs.head[: self.keep - len(mine)]

    # -- requests -----------------------------------------------------------------------------
    def prefetch(self, calls) -> None:
        """Send calls ahead: ``calls`` is [(test, handle id, encoded args)] for tests that will make them in order.

        Only while nothing else is outstanding, and no more than fits in the pipe, so the write never blocks.
        """
        if self.fault is not None or self.pending or self.proc is None:
            return
        frames, size = [], 0
        for test, hid, node in calls:
            self.seq += 1
            frame = wire.dumps({"op": "call", "h": hid, "a": node, "q": self.seq})
            if size + len(frame) > PREFETCH_BYTES:
                self.seq -= 1
                break
            frames.append(frame)
            size += len(frame)
            self.pending.append((test, hid, node, self.seq))
        if frames:
            try:
                wire.write_all(self.proc.req_fd, b"".join(frames), self.budget.wall_deadline)
            except (wire.WireError, OSError):
                self._drop(Fault("runtime_error", "the program stopped reading requests"))

    def _take_prefetched(self, target, node):
        """The reply to a sent-ahead call, if this call is the one expected next; else settle the queue."""
        test, hid, sent, seq = self.pending[0]
        if test == self.test and self._known_hid(target) == hid and sent == node:
            self.pending.popleft()
            return self._receive(seq)
        self._abandon()
        return None

    def _known_hid(self, obj):
        """The handle of a RemoteObject if known without asking the candidate (else None)."""
        if not isinstance(obj, RemoteObject):
            return None
        if obj._hid is None:
            return self.global_hids.get(obj._name)
        return obj._hid if obj._inc == self.inc else None

    def _abandon(self) -> None:
        # Never expected in practice (plans are exact); keeps the protocol in order if it happens.
        while self.pending:
            self._receive(self.pending.popleft()[3])

    def _receive(self, seq: int) -> dict:
        try:
            reply = self.proc.receive(seq, self.budget)
        except Fault as f:
            self._drop(f)
            raise
        self._replay(self.proc)
        return reply

    def request(self, msg: dict) -> dict:
        """Send one request under the current budget and return the candidate's reply."""
        if self.fault is not None:
            raise self.fault
        if self.pending:
            self._abandon()
        self.ensure()
        self.seq += 1
        msg["q"] = self.seq
        if len(self.byvalue) != len(self.bv_sent):  # by-value classes are only ever added
            msg["bv"] = sorted(self.byvalue)
            self.bv_sent = frozenset(self.byvalue)
        try:
            self.proc.send(msg, self.budget)
            reply = self.proc.receive(self.seq, self.budget)
        except Fault as f:
            self._drop(f)
            raise
        self._replay(self.proc)
        return reply

    def _replay(self, proc: CandidateProcess) -> None:
        out, err = proc.stdout.take_recent(), proc.stderr.take_recent()
        if out:
            _write(sys.stdout, out)
        if err:
            _write(sys.stderr, err)

    def call(self, target, args, kwargs):
        """Call a candidate callable; mutated arguments are written back into the caller's objects."""
        if self.pending and self.fault is None:
            enc = self._encoder()
            try:
                node = enc.encode((tuple(args), tuple(kwargs.items())))
            except codec.EncodeError as e:
                raise TypeError(f"cannot pass this value to the program: {e}") from None
            reply = self._take_prefetched(target, node)
            if reply is not None:
                return self._settle(reply, enc)
        return self._exchange({"op": "call", "h": self.resolve(target)}, (tuple(args), tuple(kwargs.items())))

    def op(self, name: str, target, args=(), n: str | None = None):
        """Any other request (getattr, len, iter, ...)."""
        msg = {"op": name}
        if target is not None:
            msg["h"] = self.resolve(target)
        if n is not None:
            msg["n"] = n
        return self._exchange(msg, tuple(args))

    def global_value(self, name: str):
        """Look up a module-level name of the candidate (AttributeError if it is not defined)."""
        if name in self.globals:
            return self.globals[name]
        try:
            value = self._exchange({"op": "global", "n": name}, ())
        except CandidateError:
            raise AttributeError(f"the program does not define {name!r}") from None
        if isinstance(value, RemoteObject) and value._kind in ("class", "callable"):
            self.global_hids[name] = value._hid
            value = RemoteObject(self, None, None, value._tname, value._repr, value._kind, name=name)
        self.globals[name] = value
        return value

    def _encoder(self) -> codec.Encoder:
        return codec.Encoder(self._encode_other)

    def _exchange(self, msg: dict, args: tuple):
        enc = self._encoder()
        try:
            msg["a"] = enc.encode(args)
        except codec.EncodeError as e:
            raise TypeError(f"cannot pass this value to the program: {e}") from None
        return self._settle(self.request(msg), enc)

    def _settle(self, reply: dict, enc: codec.Encoder):
        """Decode a reply: the value, mutated arguments written back, or the candidate's exception raised."""
        dec = self.decoder(seed=enc.keep)
        try:
            value = dec.decode(reply["ok"]) if "ok" in reply else None
            for target, state in zip(enc.keep, reply.get("post") or ()):
                if state is not None:
                    codec.restore_state(target, dec.decode_state(state))
        except (codec.DecodeError, KeyError, TypeError, ValueError) as e:
            self._drop(Fault("runtime_error", f"the program sent an invalid value ({e})"))
            raise self.fault from None
        if "exc" in reply:
            raise make_exception(reply["exc"])
        return value

    # -- codec hooks ------------------------------------------------------------------------------
    def resolve(self, obj) -> int:
        """The handle id of ``obj`` in the current process (Fault if it belonged to a dead one)."""
        if isinstance(obj, RemoteObject):
            if obj._hid is None:
                self.ensure()
                hid = self.global_hids.get(obj._name)
                if hid is None:
                    self.global_value(obj._name)
                    hid = self.global_hids.get(obj._name)
                if hid is None:
                    raise Fault("runtime_error", f"{obj._name!r} is no longer defined by the program")
                return hid
            if obj._inc != self.inc or self.proc is None:
                raise Fault("runtime_error", "an object from an earlier run of the program was used after "
                                             "it crashed or timed out")
            return obj._hid
        ref = getattr(obj, "_murphy_ref", None)
        if ref is not None and ref[0] == id(self) and ref[1] == self.inc:
            return ref[2]
        raise TypeError(f"not a program object: {type(obj).__name__}")

    def _encode_other(self, enc: codec.Encoder, obj, depth):
        if isinstance(obj, RemoteObject) or isinstance(getattr(obj, "_murphy_ref", None), tuple):
            return {"h": self.resolve(obj)}
        if isinstance(obj, types.ModuleType):
            return {"m": obj.__name__}
        where = _library_path(obj)
        if where is not None and where[0].partition(".")[0] in sys.stdlib_module_names:
            return {"m": where}  # int, str, math.sqrt, collections.Counter...: the program's own copy is used
        if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType, types.MethodType,
                            types.GeneratorType)):
            raise codec.EncodeError(f"a {type(obj).__name__} defined by the test cannot be passed to the program")
        state = getattr(obj, "__dict__", None)
        if not isinstance(state, dict):
            raise codec.EncodeError(f"a {type(obj).__name__} cannot be passed to the program")
        self.byvalue.setdefault(type(obj).__name__, type(obj))
        ref = enc.enter(obj)
        return ref if ref is not None else {"o": [type(obj).__name__, enc._pairs(state, depth)]}

    def decoder(self, seed=()) -> codec.Decoder:
        """A decoder for values coming from the candidate."""
        return codec.Decoder(self._decode_handle, self._decode_object, seed, on_module=_module)

    def _decode_handle(self, v):
        if type(v) is not list or len(v) < 4 or type(v[0]) is not int:
            raise codec.DecodeError("bad handle")
        hid, tname, rep, kind = v[0], str(v[1]), str(v[2]), str(v[3])
        if kind == "exc":
            return exception_class(tname, str(v[4]) if len(v) > 4 else "Exception", ref=(id(self), self.inc, hid))
        key = (self.inc, hid)
        obj = self.handles.get(key)
        if obj is None:
            obj = self.handles[key] = RemoteObject(self, self.inc, hid, tname, rep, kind)
        return obj

    def _decode_object(self, dec: codec.Decoder, v, depth):
        name, pairs = v
        cls = self.byvalue.get(name)
        try:
            inst = object.__new__(cls) if cls is not None and cls.__new__ is object.__new__ else cls.__new__(cls)
        except Exception:
            inst = types.SimpleNamespace()
        dec.register(inst)
        for k, val in dec.pairs(pairs, depth):
            if type(k) is not str:
                raise codec.DecodeError("attribute names must be strings")
            inst.__dict__[k] = val
        return inst


def _module(ref):
    """A module (``"name"``) or a library object (``[module, qualname]``) named by the candidate.

    Only modules the judge already has or standard-library ones are looked up, and the object
    is the judge's own: a program importing ``Counter`` hands the tests the real ``Counter``.
    """
    name, qualname = (ref, None) if isinstance(ref, str) else (ref + [None, None])[:2]
    if not isinstance(name, str) or (qualname is not None and not isinstance(qualname, str)):
        raise codec.DecodeError("bad module reference")
    if name in sys.modules:
        module = sys.modules[name]
    elif name.partition(".")[0] in sys.stdlib_module_names:
        import importlib
        module = importlib.import_module(name)
    else:
        raise codec.DecodeError(f"module {name!r} is not available to the tests")
    if qualname is None:
        return module
    found = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if found is None:
        raise codec.DecodeError(f"{name}.{qualname} is not available to the tests")
    return found


def _write(stream, data: bytes) -> None:
    try:
        stream.write(data.decode("utf-8", "replace"))
    except Exception:  # a test may have swapped sys.stdout for something odd; output is best effort
        pass


def _load_failure(reply: dict, info: dict) -> LoadFailure:
    tb = info.get("tb") or ""
    if "syntax" in reply:
        return LoadFailure("syntax_error", tb or info.get("msg", "syntax error"), info)
    kind = info.get("type", "Exception")
    if kind == "SystemExit":
        return LoadFailure("runtime_error", f"the program called exit({info.get('code')!r}) while loading", info)
    status = "memory_limit" if kind == "MemoryError" else "runtime_error"
    return LoadFailure(status, tb or f"{kind}: {info.get('msg', '')}", info)
