"""Collecting submissions: a folder of `.ipynb` files or an LMS-style zip.

- Folder: `<learner>.ipynb` (learner id = file name), or `<learner>/<module>.ipynb`; the
  timestamp is the file's modification time.
- Zip, nbgrader `zip_collect` conventions (`FileNameCollectorPlugin` with the LMS pattern
  nbgrader documents): `<assignment>_<learner>_attempt_<YYYY-MM-DD-HH-MM-SS>_<file>.ipynb`;
  plain `<learner>.ipynb` / `<learner>/<file>.ipynb` members are accepted too (timestamp from
  the zip entry). Members are read into memory with size caps, never extracted by their names
  (no path traversal), and the total uncompressed size is capped (no zip bombs).

In an LMS name, `<file>` is the learner's own upload name: identity and time are taken from
the *first* `_<learner>_attempt_<time>_`, the part the LMS writes, so a file named
`x_victim_attempt_<later>_y.ipynb` is still its uploader's, at its upload time.

One bad entry (a folder or FIFO named `*.ipynb`, an unreadable zip member) is skipped with a
one-line reason; the others are collected.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
import zlib
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from grader.errors import GraderError
from grader.submission import LEARNER_ID, MAX_NOTEBOOK_BYTES, Submission

MAX_ZIP_TOTAL = 512 * 1024 * 1024
MAX_ZIP_MEMBERS = 5000
# `.*?`: the shortest prefix, so the first `_<id>_attempt_<time>_` (the LMS's) is the one
# matched, never one inside the learner's file name after it.
LMS_NAME = re.compile(
    r"^(?P<assignment>.*?)_(?P<student_id>[A-Za-z0-9][A-Za-z0-9.@+-]*)_attempt_"
    r"(?P<timestamp>\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})_(?P<file_id>.+)\.ipynb$"
)


def _learner_of(path: PurePosixPath) -> str | None:
    if len(path.parts) >= 2 and LEARNER_ID.match(path.parts[-2]):
        return path.parts[-2]
    return path.stem if LEARNER_ID.match(path.stem) else None


def collect(source: Path) -> tuple[list[Submission], list[str]]:
    """All submissions in a folder or zip, and the names skipped with the reason."""
    source = Path(source)
    if source.is_dir():
        return _from_folder(source)
    if source.is_file() and zipfile.is_zipfile(source):
        return _from_zip(source)
    raise GraderError(f"{source}: not a folder of notebooks or a zip file")


def _from_folder(folder: Path) -> tuple[list[Submission], list[str]]:
    subs, skipped = [], []
    for path in sorted(folder.rglob("*.ipynb")):
        rel = PurePosixPath(path.relative_to(folder).as_posix())
        if ".ipynb_checkpoints" in rel.parts or path.is_symlink():
            continue
        if path.is_dir():
            skipped.append(f"{rel}: a folder, not a notebook")
            continue
        learner = _learner_of(rel) if len(rel.parts) <= 2 else None
        if learner is None:
            skipped.append(f"{rel}: cannot tell the learner id from the file name")
            continue
        try:
            data, mtime = _read_regular(path)
        except OSError as exc:
            skipped.append(f"{rel}: {exc.strerror or exc}")
            continue
        if data is None:
            skipped.append(f"{rel}: larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB")
            continue
        subs.append(Submission(learner, data, datetime.fromtimestamp(mtime, UTC), str(rel)))
    return subs, skipped


def _read_regular(path: Path) -> tuple[bytes | None, float]:
    """A regular file's bytes (None past the size cap) and mtime; OSError for anything else.

    Opened without following a symlink and without blocking (a FIFO would wait for a writer
    for ever), then checked to be a regular file before a byte is read.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(0, "not a regular file")
        if st.st_size > MAX_NOTEBOOK_BYTES:
            return None, st.st_mtime
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(MAX_NOTEBOOK_BYTES + 1)
        return (data if len(data) <= MAX_NOTEBOOK_BYTES else None), st.st_mtime
    finally:
        os.close(fd)


def _from_zip(path: Path) -> tuple[list[Submission], list[str]]:
    subs, skipped = [], []
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise GraderError(f"{path}: unreadable zip ({exc})") from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if len(infos) > MAX_ZIP_MEMBERS:
            raise GraderError(f"{path}: more than {MAX_ZIP_MEMBERS} members")
        total = 0
        for info in infos:
            name = PurePosixPath(info.filename)
            if name.suffix != ".ipynb" or "__MACOSX" in name.parts:
                continue
            if info.file_size > MAX_NOTEBOOK_BYTES:
                skipped.append(f"{info.filename}: larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB")
                continue
            total += info.file_size
            if total > MAX_ZIP_TOTAL:
                raise GraderError(f"{path}: uncompressed size above {MAX_ZIP_TOTAL // 2**20} MiB")
            match = LMS_NAME.match(name.name)
            if match:
                learner = match["student_id"]
                stamp = datetime.strptime(match["timestamp"], "%Y-%m-%d-%H-%M-%S")
                stamp = stamp.replace(tzinfo=UTC)
            else:
                learner = _learner_of(name) if len(name.parts) <= 2 else None
                stamp = datetime(*info.date_time, tzinfo=UTC)
            if learner is None or not LEARNER_ID.match(learner):
                skipped.append(f"{info.filename}: cannot tell the learner id from the name")
                continue
            try:
                with archive.open(info) as member:
                    data = member.read(MAX_NOTEBOOK_BYTES + 1)
            except (
                zipfile.BadZipFile,
                zlib.error,
                EOFError,
                OSError,
                RuntimeError,
                NotImplementedError,
                ValueError,
            ) as exc:
                skipped.append(f"{info.filename}: unreadable zip member ({exc})")
                continue
            if len(data) > MAX_NOTEBOOK_BYTES:
                skipped.append(f"{info.filename}: larger than declared")
                continue
            subs.append(Submission(learner, data, stamp, info.filename))
    return subs, skipped
