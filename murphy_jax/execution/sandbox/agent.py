"""The candidate side: load the program, then serve the judge's requests or run it as ``__main__``.

Everything here runs in the untrusted process and is treated as such by the judge: a
candidate may rewrite this module at will, and all it can gain is to choose what values
its own functions appear to return, which is what it could do honestly anyway.

Function mode (assert/call/pytest tests): the program is executed as module ``solution``;
the judge then asks for globals, calls, attribute reads and a few protocol operations
(``len``, ``iter``, ``next``, ...), one framed request at a time on fd 3, answers on fd 4.
Stdio mode: the program runs as ``__main__`` with the test input on fd 0.
"""
from __future__ import annotations

import builtins
import io
import json
import os
import sys
import time
import traceback
import types

from . import codec, wire

FILENAME = "solution.py"
RPC_IN, RPC_OUT = 3, 4
MAX_TB_FRAMES = 8
_OPS_BUILTIN = {"len": len, "str": str, "repr": repr, "bool": bool, "iter": iter, "next": next, "hash": hash,
                "getitem": lambda o, k: o[k], "contains": lambda o, k: k in o, "isinstance": isinstance,
                "issubclass": issubclass}


def library_path(obj):
    """[module, qualname] for a class or function of an imported library module (not the program's own)."""
    if not isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)) and \
            type(obj).__module__ != "typing":
        return None
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "_name", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or module in ("solution", "__main__"):
        return None
    found = sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return [module, qualname] if found is obj else None


def _import_ref(ref):
    """A module, or [module, qualname] of a library object, named by the judge (trusted) in this process."""
    import importlib
    name, qualname = (ref, None) if isinstance(ref, str) else (list(ref) + [None, None])[:2]
    try:
        found = sys.modules.get(name) or importlib.import_module(name)
        for part in (qualname.split(".") if qualname else ()):
            found = getattr(found, part)
    except (ImportError, AttributeError, TypeError, ValueError) as e:
        raise codec.DecodeError(f"cannot find {ref!r}: {e}") from None
    return found


def _builtin_base(cls) -> str:
    for base in cls.__mro__:
        if base.__module__ == "builtins" and issubclass(base, BaseException):
            return base.__name__
    return "Exception"


def _safe(fn, obj, cap: int, fallback: str) -> str:
    try:
        text = fn(obj)
        return text[:cap] if isinstance(text, str) else fallback
    except BaseException:  # the candidate's __repr__/__str__ may do anything
        return fallback


def format_candidate_traceback(exc: BaseException) -> str:
    """Traceback limited to the candidate's own frames, repeats collapsed, plus the exception line."""
    try:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == FILENAME]
        body = traceback.StackSummary.from_list(frames).format()[-MAX_TB_FRAMES:]
        tail = traceback.format_exception_only(type(exc), exc)
    except BaseException:
        return f"{type(exc).__name__}"
    head = ["Traceback (most recent call last):\n"] if body else []
    return "".join(head + body + tail)[-4000:]


class Agent:
    """One candidate process's side of the protocol."""

    def __init__(self, rpc_in: int = RPC_IN, rpc_out: int = RPC_OUT):
        self.rpc_in = rpc_in
        self.rpc_out = rpc_out
        self.objects: dict[int, object] = {}
        self.ids: dict[int, int] = {}
        self.byvalue: set[str] = set()
        self.generic: dict[str, type] = {}
        self.module = None

    # -- transport --------------------------------------------------------------------
    def send(self, msg: dict) -> None:
        """Flush the candidate's output first, so the judge sees it before the reply."""
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass
        msg["cpu"] = time.process_time()
        wire.send(self.rpc_out, msg)

    def recv(self) -> dict:
        """Next request (exits quietly when the judge hangs up)."""
        try:
            return wire.recv_blocking(self.rpc_in)
        except (wire.WireError, OSError):
            os._exit(0)

    # -- handles and values ---------------------------------------------------------
    def handle(self, obj) -> list:
        """Describe an object kept here: [id, type name, repr, kind(, builtin exception base)]."""
        key = id(obj)
        hid = self.ids.get(key)
        if hid is None:
            hid = len(self.objects) + 1
            self.objects[hid] = obj
            self.ids[key] = hid
        if isinstance(obj, type):
            if issubclass(obj, BaseException):
                return [hid, obj.__name__, obj.__qualname__, "exc", _builtin_base(obj)]
            return [hid, obj.__name__, obj.__qualname__, "class"]
        kind = "callable" if callable(obj) else "obj"
        return [hid, type(obj).__name__, _safe(repr, obj, 300, f"<{type(obj).__name__} object>"), kind]

    def _encode_other(self, enc: codec.Encoder, obj, depth):
        if isinstance(obj, types.ModuleType):
            return {"m": obj.__name__}
        where = library_path(obj)
        if where is not None:  # e.g. typing.List or collections.Counter imported by the program
            return {"m": where}
        state = getattr(obj, "__dict__", None)
        if type(obj).__name__ in self.byvalue and isinstance(state, dict) and not isinstance(obj, type):
            ref = enc.enter(obj)
            return ref if ref is not None else {"o": [type(obj).__name__, enc._pairs(state, depth)]}
        return {"h": self.handle(obj)}

    def _decode_handle(self, v):
        try:
            return self.objects[v]
        except (KeyError, TypeError):
            raise codec.DecodeError(f"unknown handle {v!r}") from None

    def _decode_object(self, dec: codec.Decoder, v, depth):
        name, pairs = v
        if type(name) is not str:
            raise codec.DecodeError("object class name must be a string")
        cls = getattr(self.module, name, None) if self.module is not None else None
        inst = None
        if isinstance(cls, type):
            try:
                inst = object.__new__(cls) if cls.__new__ is object.__new__ else cls.__new__(cls)
                if not isinstance(getattr(inst, "__dict__", None), dict):
                    inst = None
            except BaseException:
                inst = None
        if inst is None:
            cls = self.generic.get(name)
            if cls is None:
                cls = self.generic[name] = type(name, (), {})
            inst = object.__new__(cls)
        dec.register(inst)
        for k, val in dec.pairs(pairs, depth):
            if type(k) is not str:
                raise codec.DecodeError("attribute names must be strings")
            inst.__dict__[k] = val
        return inst

    def encoder(self, seed=()) -> codec.Encoder:
        """An encoder that sends unknown objects as handles (or by value for test-defined classes)."""
        return codec.Encoder(self._encode_other, seed)

    def decoder(self) -> codec.Decoder:
        """A decoder that resolves handles and rebuilds test-defined objects."""
        return codec.Decoder(self._decode_handle, self._decode_object, on_module=_import_ref)

    def exc_info(self, exc: BaseException) -> dict:
        """What the judge needs to re-raise an equivalent exception and to write feedback."""
        t = type(exc)
        info = {"type": t.__name__, "base": _builtin_base(t), "msg": _safe(str, exc, 2000, ""),
                "tb": format_candidate_traceback(exc)}
        if t.__module__ != "builtins":
            info["h"] = self.handle(t)
        if isinstance(exc, SystemExit):
            code = exc.code
            info["code"] = code if code is None or type(code) is int else _safe(str, code, 200, "")
        return info

    # -- loading -------------------------------------------------------------------------
    def compile(self, source):
        """Compile the program; returns (code, None) or (None, syntax-error info)."""
        if not isinstance(source, str) or not source.strip():
            return None, {"type": "SyntaxError", "msg": "the program is empty", "tb": ""}
        try:
            code = compile(source, FILENAME, "exec", dont_inherit=True)
        except (SyntaxError, ValueError, MemoryError, RecursionError, OverflowError) as e:
            tb = "".join(traceback.format_exception_only(type(e), e))[-3000:]
            return None, {"type": type(e).__name__, "msg": str(e)[:1000], "tb": tb}
        import linecache
        linecache.cache[FILENAME] = (len(source), None, source.splitlines(True), FILENAME)
        return code, None

    # -- function mode -----------------------------------------------------------------
    def serve(self) -> None:
        """Load the program as module ``solution`` and answer requests until told to stop."""
        first = self.recv()
        self.send({"op": "started"})  # from here on, however this process ends, the program did it
        self.byvalue = set(first.get("bv", ()))
        code, err = self.compile(first.get("program"))
        if err is not None:
            self.send({"op": "loaded", "syntax": err})
            os._exit(0)
        module = types.ModuleType("solution")
        module.__file__ = FILENAME
        module.__builtins__ = builtins
        sys.modules["solution"] = self.module = module
        try:
            exec(code, module.__dict__)
        except BaseException as e:
            self.send({"op": "loaded", "exc": self.exc_info(e)})
            os._exit(0)
        found = {}
        for name in first.get("names", ()):
            if name in module.__dict__:
                try:
                    found[name] = self.encoder().encode(module.__dict__[name])
                except codec.EncodeError:
                    found[name] = {"h": self.handle(module.__dict__[name])}
        self.send({"op": "loaded", "globals": found})
        while True:
            req = self.recv()
            if req.get("op") == "bye":
                os._exit(0)
            self.send(self.answer(req))

    def answer(self, req: dict) -> dict:
        """Carry out one request; the reply echoes its sequence number."""
        reply = {"q": req.get("q")}
        dec = self.decoder()
        if "bv" in req:
            self.byvalue = set(req["bv"])
        try:
            op = req["op"]
            target = self._decode_handle(req["h"]) if "h" in req else None
            args = dec.decode(req["a"]) if "a" in req else ()
        except (codec.DecodeError, KeyError, TypeError) as e:
            reply["exc"] = {"type": "ProtocolError", "base": "Exception", "msg": str(e), "tb": ""}
            return reply
        seeded = list(dec.memo)
        try:
            if op == "call":
                pos, kw = args
                result = target(*pos, **dict(kw))
            elif op == "global":
                name = req["n"]
                if name not in self.module.__dict__:
                    raise NameError(f"name {name!r} is not defined")
                result = self.module.__dict__[name]
            elif op == "getattr":
                result = getattr(target, req["n"])
            elif op == "setattr":
                setattr(target, req["n"], args[0])
                result = None
            elif op == "take":  # up to n items from an iterator, in one round trip
                items, done = [], False
                for _ in range(int(args[0])):
                    try:
                        items.append(next(target))
                    except StopIteration:
                        done = True
                        break
                result = (items, done)
            elif op == "setitem":
                target[args[0]] = args[1]
                result = None
            elif op == "delitem":
                del target[args[0]]
                result = None
            else:
                fn = _OPS_BUILTIN[op]
                result = fn(target, *args) if target is not None else fn(*args)
        except BaseException as e:
            reply["exc"] = self.exc_info(e)
            result = None
        try:
            enc = self.encoder(seeded)
            node = enc.encode(result)
            post = [enc.encode_state(o) for o in seeded] if seeded else None
        except BaseException as e:  # unencodable (size/depth) or a hostile __dict__/__eq__
            return {"q": reply["q"], "exc": {"type": "TransferError", "base": "Exception",
                                             "msg": f"the value could not be sent to the test: {_safe(str, e, 300, '')}",
                                             "tb": ""}}
        if "exc" not in reply:
            reply["ok"] = node
        if post is not None:
            reply["post"] = post
        return reply

    # -- stdio mode --------------------------------------------------------------------
    def run_main(self) -> None:
        """Run the program as ``__main__`` the way ``python solution.py`` would, then exit."""
        first = self.recv()
        self.send({"op": "started"})
        code, err = self.compile(first.get("program"))
        if err is not None:
            sys.stderr.write(err["tb"] or err["msg"])
            self.send({"op": "done", "syntax": err})
            os._exit(1)
        module = types.ModuleType("__main__")
        module.__file__ = FILENAME
        module.__builtins__ = builtins
        sys.modules["__main__"] = module
        status = 0
        try:
            exec(code, module.__dict__)
        except SystemExit as e:
            status = _exit_status(e)
        except BaseException as e:
            try:
                sys.stderr.write(format_candidate_traceback(e))
            except BaseException:
                pass
            self.send({"op": "done", "exc": self.exc_info(e)})
            status = 1
        os._exit(_finish(status))


def _exit_status(e: SystemExit) -> int:
    code = e.code
    if code is None:
        return 0
    if type(code) is int:
        return code & 0xFF
    try:
        sys.stderr.write(str(code) + "\n")
    except BaseException:
        pass
    return 1


def _finish(status: int) -> int:
    """What interpreter shutdown would do: join threads, run atexit, flush the streams."""
    threading = sys.modules.get("threading")  # only a program that imported it can have threads to join
    if threading is not None:
        try:
            threading._shutdown()
        except BaseException:
            pass
    try:
        import atexit
        atexit._run_exitfuncs()
    except SystemExit as e:
        status = _exit_status(e)
    except BaseException:
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    return status


def install_site_builtins() -> None:
    """exit(), quit(), help() and friends, which the site module (not run in the zygote) would add."""
    import _sitebuiltins
    builtins.exit = _sitebuiltins.Quitter("exit", "Ctrl-D (i.e. EOF)")
    builtins.quit = _sitebuiltins.Quitter("quit", "Ctrl-D (i.e. EOF)")
    builtins.help = _sitebuiltins._Helper()
    builtins.copyright = builtins.credits = builtins.license = _sitebuiltins._Printer("info", "(not available)")


def std_streams() -> tuple:
    """Unused stdio objects on fds 0-2, built once in the zygote and installed in each child after dup2."""
    stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8", errors="strict")
    stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False), 1 << 16), encoding="utf-8",
                              errors="strict")
    stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace",
                              line_buffering=True, write_through=True)
    return stdin, stdout, stderr


def install_std_streams(streams: tuple) -> None:
    """Make ``streams`` the process's sys.std* (and sys.__std*__)."""
    sys.stdin, sys.stdout, sys.stderr = streams
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = streams


def warm_up(rounds: int = 16) -> None:
    """Run the request path a few times in the zygote, so children inherit specialised bytecode.

    CPython 3.11 rewrites bytecode on its first executions; done once here, it is not
    redone (and its pages not copied) in every forked candidate.
    """
    a = Agent(-1, -1)
    a.module = types.ModuleType("solution")
    sample = [1, 2.5, "x", None, True, (1, "a"), {"k": [1, 2]}, {3, 4}, b"z", [[1], [2]]]
    fn = a.handle(len)[0]
    for _ in range(rounds):
        enc = a.encoder()
        node = enc.encode((tuple(sample), ()))
        frame = wire.dumps({"op": "call", "h": fn, "a": node, "q": 1})
        req = json.loads(frame[wire.HEADER.size:])
        reply = a.answer(req)
        json.loads(wire.dumps(reply)[wire.HEADER.size:])
        a.answer({"op": "getattr", "h": fn, "n": "__name__", "q": 2, "a": {"t": []}})
        a.answer({"op": "call", "h": fn, "a": {"t": [{"t": [1]}, {"t": []}]}, "q": 3})  # raises TypeError
        a.compile("def f(x):\n    return x + 1\n")
    a.objects.clear()
    a.ids.clear()
