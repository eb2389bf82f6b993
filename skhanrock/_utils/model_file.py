"""Reading and writing the zip files of saved models, bounded and with one error type.

:mod:`skhanrock.nn` writes an estimator's members and :mod:`skhanrock._saving`
a pipeline's; both read and write them here, so that every damaged file is
refused the same way (:class:`~skhanrock.exceptions.ModelFileError`, naming
the file and the member) and no member is inflated beyond its bound.
"""

import contextlib
import json
import zipfile
import zlib
from pathlib import Path

from ..exceptions import ModelFileError

__all__ = ["check_file_target", "damaged_entries", "open_model_file", "read_json", "read_member",
           "write_aside"]


def _refused(message, path, member):
    return ModelFileError(message, path=path, member=member)


@contextlib.contextmanager
def open_model_file(path):
    """The zip archive at ``path``, with any failure to read it as a :class:`ModelFileError`.

    Errors raised inside the block that are already ModelFileErrors pass unchanged.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            yield archive
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
        # zlib.error (a corrupt deflate stream) and BadZipFile (a CRC or size mismatch)
        # say nothing of the file; EOFError is a truncated member.
        raise _refused(f"its zip data cannot be read ({type(error).__name__}: {error}).",
                       path, None) from error


# What a tampered entry raises while it is read: a missing key, a value of the
# wrong type, length or size. Any other error is a bug, and is not disguised.
_TAMPERED_ENTRY = (KeyError, TypeError, IndexError, ValueError, AttributeError, OverflowError)


@contextlib.contextmanager
def damaged_entries(path, member):
    """Errors raised while the parsed entries of ``member`` are used, as a ModelFileError.

    One wording for the estimator's ``skhanrock.json`` and the pipeline's
    ``pipeline.json``: a missing entry is named, any other error keeps its
    message and type. ModelFileErrors pass unchanged.

    Examples
    --------
    >>> with damaged_entries("model.skhanrock", "pipeline.json"):
    ...     {"steps": []}["estimator_step"]
    Traceback (most recent call last):
    ...
    skhanrock.exceptions.ModelFileError: model.skhanrock (member pipeline.json) is damaged or \
not a model written by skhanrock.save_model: the entry 'estimator_step' is missing (KeyError).
    """
    try:
        yield
    except ModelFileError:
        raise
    except _TAMPERED_ENTRY as error:
        what = f"the entry {error} is missing" if isinstance(error, KeyError) else str(error)
        raise _refused(f"{what} ({type(error).__name__}).", path, member) from error


def read_member(archive, name, limit, path):
    """Bytes of member ``name``, refused unread when it declares more than ``limit`` bytes.

    The declared size is checked before any byte is inflated, and the read
    stops one byte past ``limit``, so a member that lies about its size (a
    zip bomb) costs at most ``limit`` bytes of memory either way.
    """
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise _refused(f"it has no {name} member.", path, None) from None
    if info.file_size > limit:
        raise _refused(f"it declares {info.file_size:,} bytes, more than the {limit:,} its "
                       "saved configuration allows; it was not read.", path, name)
    try:
        with archive.open(info) as member:
            data = member.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
        raise _refused(f"its data cannot be read ({type(error).__name__}: {error}).",
                       path, name) from error
    if len(data) > limit:
        raise _refused(f"it inflates to more than the {limit:,} bytes its saved configuration "
                       "allows; reading stopped there.", path, name)
    return data


def read_json(archive, name, limit, path):
    """Member ``name`` parsed as a JSON object, or a ModelFileError naming it."""
    data = read_member(archive, name, limit, path)
    try:
        value = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise _refused(f"it is not valid JSON ({error}).", path, name) from error
    if not isinstance(value, dict):
        raise _refused(f"it holds a JSON {type(value).__name__}, not an object.", path, name)
    return value


def write_aside(path, write, mode="w"):
    """Call ``write`` on a zip archive beside ``path``, then rename it to ``path``.

    An interrupted or failed save never leaves half a model at ``path``, nor
    its ``.partial`` file beside it. ``mode="a"`` appends to a ``.partial``
    file that already exists.

    Returns
    -------
    Path
        ``path``.
    """
    path = check_file_target(path)
    partial = path.with_name(path.name + ".partial")
    try:
        with zipfile.ZipFile(partial, mode, compression=zipfile.ZIP_DEFLATED) as archive:
            write(archive)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def check_file_target(path):
    """``path`` as a Path, refused if it is a directory (a save writes one file)."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"save_model writes one file, and {str(path)!r} is a directory; name a "
                         "file inside it, for example its_folder / 'model.skhanrock'.")
    return path
