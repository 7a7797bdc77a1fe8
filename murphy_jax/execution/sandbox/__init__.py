"""Code that runs inside the sandbox (zygote, candidate agent) plus the wire formats it shares with the judge.

Every module here imports only the standard library and its siblings (relatively), so
the sandbox zygote can load this folder as a stand-alone package from a fresh ``python -I -S``
interpreter without importing ``murphy_jax`` (whose ``__init__`` may one day pull in JAX).
Keep this file free of imports.
"""
