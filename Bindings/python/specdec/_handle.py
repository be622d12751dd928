"""Handle: the lifetime every Python owner of a library handle shares."""

from __future__ import annotations

from . import _ffi
from .errors import ClosedError


class Handle:
    """Owns one library handle (``_ptr``) until :meth:`close`.

    A context manager, also closed when garbage-collected. Subclasses name what they
    own (``_noun``, for the error after close) and release the pointer in close().
    The bindings never hand a released (dangling) handle to the library.
    """

    # A class default, so that __del__ of an object whose __init__ failed finds nothing.
    _ptr = None
    _noun = "handle"

    def _handle(self):
        """The live pointer; ClosedError after :meth:`close`."""
        ptr = self._ptr
        if not ptr:
            raise ClosedError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"the {self._noun} is closed")
        return ptr

    @property
    def closed(self) -> bool:
        return not self._ptr

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        self._handle()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            if self._ptr:
                self.close()
        except Exception:  # interpreter shutdown: never raise from a finalizer
            pass
