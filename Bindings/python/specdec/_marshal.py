"""Argument conversion shared by every wrapper: Python values into the C types of
specdec.h, new handles, and the library's caller-sized output buffers back out.

ctypes silently wraps an integer that does not fit its C type (turning a bad id into a
valid one), so every integer that crosses into C is checked here first.
"""

from __future__ import annotations

import array
import ctypes
import operator
from typing import Callable, Dict, Iterable, List, Optional, Tuple, Union

from . import _ffi
from .errors import InternalError, InvalidArgumentError, InvalidUTF8Error, TokenOutOfRangeError, check

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1

Text = Union[str, bytes, bytearray, memoryview]


# ---------------------------------------------------------------------------
# Python values -> C arguments
# ---------------------------------------------------------------------------


def _integer(value, what: str, expected: str = "an integer") -> int:
    try:
        return operator.index(value)
    except TypeError:
        raise InvalidArgumentError(
            _ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"{what} must be {expected}, not {type(value).__name__}"
        ) from None


def int32(value, what: str, expected: str = "an integer") -> int:
    """``value`` as an int32 argument; InvalidArgumentError when it is not one."""
    value = _integer(value, what, expected)
    if not INT32_MIN <= value <= INT32_MAX:
        raise InvalidArgumentError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"{what} {value} does not fit in int32")
    return value


def positive_int32(value, what: str) -> int:
    """``value`` as an int32 argument that must be above zero (a vocabulary size)."""
    value = int32(value, what)
    if value <= 0:
        raise InvalidArgumentError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"{what} must be positive, not {value}")
    return value


def name_or_int32(table: Dict[str, int], value, what: str, alternatives: str = "") -> int:
    """The value of a name in ``table`` (any case), or an int32 constant given as is."""
    if isinstance(value, str):
        try:
            return table[value.lower()]
        except KeyError:
            raise InvalidArgumentError(
                _ffi.SPECDEC_ERR_INVALID_ARGUMENT,
                f"{what} must be one of {sorted(table)}{alternatives}, not {value!r}",
            ) from None
    return int32(value, what, "a name or an integer")


def token_id(value, what: str) -> int:
    """``value`` as a token id argument; an id outside int32 is TokenOutOfRangeError."""
    value = _integer(value, what)
    if not INT32_MIN <= value <= INT32_MAX:
        raise TokenOutOfRangeError(_ffi.SPECDEC_ERR_TOKEN_OUT_OF_RANGE, f"{what} = {value} does not fit in int32")
    return value


def id_array(ids: Iterable[int], what: str):
    """``(array, count)``: token ids as a C int32 array (never zero-sized, so even an
    empty list is a valid pointer)."""
    values = [token_id(value, f"{what}[{i}]") for i, value in enumerate(ids)]
    return (ctypes.c_int32 * max(len(values), 1))(*values), len(values)


def text_bytes(text: Text, what: str = "text", nul_terminated: bool = False) -> bytes:
    """UTF-8 bytes of ``text``. ``str`` is encoded (lone surrogates cannot be, which is
    InvalidUTF8Error); bytes-like objects are passed through unchecked, so the library
    sees (and reports) invalid UTF-8 itself."""
    if isinstance(text, str):
        try:
            raw = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidUTF8Error(
                _ffi.SPECDEC_ERR_INVALID_UTF8, f"{what} cannot be encoded as UTF-8: {exc}"
            ) from None
    elif isinstance(text, (bytes, bytearray, memoryview)):
        raw = bytes(text)
    else:
        raise InvalidArgumentError(
            _ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"{what} must be str or bytes, not {type(text).__name__}"
        )
    if nul_terminated and b"\0" in raw:
        raise InvalidArgumentError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"{what} contains a NUL byte")
    return raw


def is_sequence(value) -> bool:
    """A sized, indexable container that is not text."""
    return not isinstance(value, (str, bytes)) and hasattr(value, "__len__") and hasattr(value, "__getitem__")


def write_float_rows(rows, n_rows: int, width: int, dst, what: str) -> None:
    """Copies n_rows x width floats to the C buffer `dst` (a float pointer).

    `rows` is one flat buffer/sequence of n_rows * width floats, or a sequence of
    n_rows rows. Buffers of C floats (array('f'), float32 memoryviews or numpy arrays)
    are copied with memmove; other sequences are converted first."""
    base = ctypes.cast(dst, ctypes.c_void_p).value
    if not base:
        raise ValueError(f"no {what} buffer to write to")

    def as_float_bytes(value, count: int) -> Optional[bytes]:
        try:
            view = memoryview(value)
        except TypeError:
            return None
        if view.format not in ("f", "<f", "=f") or not view.c_contiguous:
            return None
        if view.nbytes != 4 * count:
            return None
        return view.tobytes()

    whole = as_float_bytes(rows, n_rows * width)
    if whole is not None:
        ctypes.memmove(base, whole, len(whole))
        return
    if not is_sequence(rows):
        rows = list(rows)
    if len(rows) == n_rows * width and (not rows or not is_sequence(rows[0])):
        rows = [rows[i * width : (i + 1) * width] for i in range(n_rows)]  # flat
    if len(rows) != n_rows:
        raise ValueError(f"{what}: expected {n_rows} rows of {width} floats, got {len(rows)} items")
    for i, row in enumerate(rows):
        data = as_float_bytes(row, width)
        if data is None:
            values = array.array("f", row)
            if len(values) != width:
                raise ValueError(f"{what}: row {i} has {len(values)} floats, expected {width}")
            data = values.tobytes()
        ctypes.memmove(base + 4 * width * i, data, len(data))


def sized(struct_type):
    """A zeroed struct with ``struct_size`` set: how the ABI tells struct versions apart."""
    value = struct_type()
    value.struct_size = ctypes.sizeof(struct_type)
    return value


# ---------------------------------------------------------------------------
# C results -> Python values
# ---------------------------------------------------------------------------


def new_handle(handle_type, function: str, made: str, *args):
    """Calls the creating ``function`` (its last argument receives the handle) and
    returns the handle; raises its error, or InternalError for OK without a handle."""
    out = handle_type()
    check(getattr(_ffi.lib(), function)(*args, ctypes.byref(out)))
    if not out:
        raise InternalError(_ffi.SPECDEC_ERR_INTERNAL, f"{function} returned OK without {made}")
    return out


#: fill(buffer, capacity, byref(count)) -> status, as the library's copy-out functions go.
Fill = Callable[[object, int, object], int]


def read_array(element_type, fill: Fill, capacity: int) -> Tuple[int, List]:
    """``(status, values)`` of a call that copies out into a caller-sized array; it is
    called again with the size the library asks for while the buffer is too small."""
    while True:
        buf = (element_type * capacity)()
        count = ctypes.c_int32(0)
        code = fill(buf, capacity, ctypes.byref(count))
        if code == _ffi.SPECDEC_ERR_BUFFER_TOO_SMALL and count.value > capacity:
            capacity = count.value
            continue
        return code, buf[: max(0, min(count.value, capacity))]


def read_bytes(fill: Fill, capacity: int) -> Tuple[int, bytes]:
    """``(status, bytes)`` of a call that copies text out into a caller-sized buffer
    (b"" when it failed); retried like :func:`read_array`, with room for a NUL."""
    while True:
        buf = ctypes.create_string_buffer(capacity)
        length = ctypes.c_size_t(0)
        code = fill(buf, capacity, ctypes.byref(length))
        if code == _ffi.SPECDEC_ERR_BUFFER_TOO_SMALL and length.value >= capacity:
            capacity = length.value + 1
            continue
        return code, (buf.raw[: length.value] if code == _ffi.SPECDEC_OK else b"")


def utf8(raw: bytes) -> str:
    """Library text as str; bytes that are not UTF-8 become U+FFFD."""
    return raw.decode("utf-8", errors="replace")
