"""The one output writer: no command destroys a user's file, and no interrupted run leaves a mix.

Every command that writes files plans its outputs first, before any work is done, with
:func:`plan_folder` (a set of files in one folder: ``lscb check --out DIR``) or :func:`plan_file`
(one file: ``lscb pseudonymise --out FILE``). Planning refuses, with every problem listed:

* an output that is one of the command's input files or its key file, compared by device and
  inode (a hard link or a symbolic link to an input is the input) and by path (a key that
  ``--new-key`` is about to create does not exist yet);
* an output path that is a symbolic link, or a folder given with ``--out`` that is one: writing
  would change the file it points to (folders above it may be links: ``/tmp`` is one on macOS);
* an existing output, unless ``force`` (``--force``) is given; a folder or anything else that is
  not a regular file is never replaced;
* a folder that cannot be created or written into.

Writing then goes to temporary names in the destination folder (so that the final step is a
rename within one file system), and only when the work has succeeded are they renamed into
place:

* one file: written as ``.lscb-tmp-PID-RANDOM-NAME`` beside it (the name's suffix kept, for
  writers that go by it), flushed to disk, renamed.
* a set of files: written into a hidden staging folder ``.lscb-staging-PID-RANDOM`` inside the
  destination folder; then, with interrupting signals (SIGINT, SIGTERM, SIGHUP) held back, a
  journal naming the set is written, every file is renamed into place, and the journal removed.
  A signal that arrives during those renames takes effect when they are done.

So an interrupted run leaves either the old outputs or the new ones: a Ctrl-C (or SIGTERM)
during the work leaves the old ones untouched; one during the renames lets them finish. If the
process is killed outright (SIGKILL, a power cut) in the few milliseconds of the renames, the
journal stays behind, and the next run that writes to the folder completes the set before it
does anything else (:func:`recover`). Staging folders and temporary files left by a process
that no longer runs are removed at the same time.

An existing file is replaced by renaming over it, never by writing into it: a hard link to it
elsewhere keeps the old content.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import json
import os
import re
import secrets
import shutil
import signal
import stat
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Final

from model.errors import InputError, Problem

__all__ = [
    "JOURNAL",
    "FilePlan",
    "FolderPlan",
    "OutputGuard",
    "folder_problems",
    "plan_file",
    "plan_folder",
    "recover",
]

JOURNAL: Final = ".lscb-commit.json"
"""The journal of a set being renamed into place; present only while (or if killed while) a
set is committed."""

_STAGING_PREFIX: Final = ".lscb-staging-"
_TMP_MARK: Final = ".lscb-tmp-"
_LEFTOVER: Final = re.compile(r"\.lscb-(?:staging|tmp)-(\d+)-[0-9a-f]+(?:-.*)?", re.DOTALL)
_HELD_SIGNALS: Final = tuple(
    s for s in (getattr(signal, n, None) for n in ("SIGINT", "SIGTERM", "SIGHUP")) if s is not None
)


@dataclass(frozen=True)
class OutputGuard:
    """What outputs must never overwrite, and whether existing outputs may be replaced.

    ``inputs`` are every file the command reads (the log, rules, mapping, settings, scenario,
    notebook...), ``keys`` its key files (which may not exist yet). Missing inputs are skipped:
    the command reports them itself.
    """

    inputs: Sequence[Path | str] = ()
    keys: Sequence[Path | str] = ()
    force: bool = False
    option: str = "--out"
    _identities: dict[tuple[int, int], str] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _paths: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for kind, paths in (("input", self.inputs), ("key", self.keys)):
            for given in paths:
                path = Path(given)
                label = f"the key file '{path}'" if kind == "key" else f"the input file '{path}'"
                with contextlib.suppress(OSError):
                    info = path.stat()
                    self._identities.setdefault((info.st_dev, info.st_ino), label)
                self._paths.setdefault(_real(path), label)

    def collision(self, path: Path) -> str | None:
        """Which input or key file ``path`` is (the same file by inode, or the same path)."""
        try:
            info = path.stat()
        except OSError:
            info = None
        if info is not None:
            label = self._identities.get((info.st_dev, info.st_ino))
            if label is not None:
                return label
        return self._paths.get(_real(path))


def _real(path: Path) -> str:
    """An absolute, normalised path, with symbolic links resolved as far as they exist."""
    return os.path.realpath(os.path.abspath(path))


def _destination_problems(path: Path, guard: OutputGuard, where: str) -> list[Problem]:
    """What stops ``path`` from being written as one output file (nothing is touched)."""
    try:
        info: os.stat_result | None = path.lstat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        return [Problem(where, "a file name to write", f"'{path}': {exc.strerror or exc}")]
    if info is not None and stat.S_ISLNK(info.st_mode):
        return [Problem(where, "a file name to write, not a symbolic link",
                        f"'{path}', a symbolic link (writing would change the file it points "
                        "to); give the real path instead")]
    collision = guard.collision(path)
    if collision is not None:
        return [Problem(where, "an output other than the command's own input and key files",
                        f"'{path}', which is {collision}: it would be destroyed")]
    if info is None:
        return []
    if stat.S_ISDIR(info.st_mode):
        return [Problem(where, "a file name to write", f"'{path}', a folder")]
    if not stat.S_ISREG(info.st_mode):
        return [Problem(where, "a file name to write", f"'{path}', which is not a regular file")]
    if not guard.force:
        return [Problem(where, "a file that does not exist yet (or --force to replace it)",
                        f"'{path}', an existing file, left as it is")]
    return []


def folder_problems(folder: Path | str, option: str = "--out", *,
                    must_exist: bool = False) -> list[Problem]:
    """What stops ``folder`` from being a folder to write into; nothing is created.

    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as work:
    ...     (Path(work) / "notes.txt").write_text("x")
    ...     folder_problems(Path(work) / "new" / "folder")
    ...     [p.found.endswith("a path through the file '" + work + "/notes.txt'")
    ...      for p in folder_problems(Path(work) / "notes.txt" / "out")]
    1
    []
    [True]
    """
    folder = Path(folder)
    expected = "a folder to write into, or a path where one can be created"
    where = f"option {option}"
    try:
        if folder.is_symlink():
            return [Problem(where, "a folder that is not a symbolic link",
                            f"'{folder}', a symbolic link (outputs would be written into the "
                            "folder it points to); give the real path instead")]
    except OSError:
        pass
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        what = "an existing file" if existing == folder else f"a path through the file '{existing}'"
        return [Problem(where, expected, f"'{folder}', {what}")]
    if must_exist and existing != folder:
        return [Problem(where, "an existing folder", f"'{folder}', which does not exist")]
    if not os.access(existing, os.W_OK | os.X_OK):
        return [Problem(where, expected, f"'{folder}': no permission to write in '{existing}'")]
    return []


# ------------------------------------------------------------------------- signals


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP back until the block is done, then deliver them.

    Only the main thread can set signal handlers; elsewhere the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous: dict[int, Any] = {}
    try:
        for signum in _HELD_SIGNALS:
            previous[signum] = signal.signal(signum, hold)
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        for signum in dict.fromkeys(received):
            signal.raise_signal(signum)


# ------------------------------------------------------------------------- writing


def _token() -> str:
    return f"{os.getpid()}-{secrets.token_hex(6)}"


def _fsync_file(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_folder(folder: Path) -> None:
    """Make renames in ``folder`` durable; a file system that cannot is left as it is."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, owned by someone else
    return True


def recover(folder: Path | str) -> list[str]:
    """Complete a set whose renames were cut short, and remove what dead runs left behind.

    Returns the names completed from a journal (empty when there was none). Called by every
    plan before it checks the folder, so a killed run never leaves a mix for the next one."""
    folder = Path(folder)
    completed: list[str] = []
    journal = folder / JOURNAL
    if journal.is_file() and not journal.is_symlink():
        try:
            record = json.loads(journal.read_text(encoding="utf-8"))
            staging = folder / str(record["staging"])
            names = [str(n) for n in record["names"]]
        except (OSError, ValueError, KeyError, TypeError):
            record = None
        owner = _LEFTOVER.fullmatch(staging.name) if record is not None else None
        if (record is not None and staging.parent == folder and owner is not None
                and not (int(owner.group(1)) != os.getpid() and _running(int(owner.group(1))))):
            with _signals_held():
                for name in names:
                    source = staging / name
                    if Path(name).name == name and source.is_file():
                        os.replace(source, folder / name)
                        completed.append(name)
                _fsync_folder(folder)
                journal.unlink()
                shutil.rmtree(staging, ignore_errors=True)
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return completed
    for entry in entries:
        match = _LEFTOVER.fullmatch(entry.name)
        if match is None or _running(int(match.group(1))):
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
    return completed


@dataclass
class FolderPlan:
    """A set of files to write into one folder; see the module's description.

    ``names`` are file names or glob patterns (``heatmap_*.png``) for files whose names are
    known only when they are written: every existing file that matches one is checked like a
    named output, and every file written must match one."""

    folder: Path
    names: tuple[str, ...]
    guard: OutputGuard
    written: tuple[Path, ...] = ()

    def _matches(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.names)

    def _targets(self, produced: Iterable[str] = ()) -> list[str]:
        fixed = [n for n in self.names if not _is_pattern(n)]
        found: list[str] = []
        if any(_is_pattern(n) for n in self.names) and self.folder.is_dir():
            found = sorted(e.name for e in os.scandir(self.folder)
                           if not e.name.startswith(".") and self._matches(e.name))
        return list(dict.fromkeys([*fixed, *found, *produced]))

    def check(self, produced: Iterable[str] = ()) -> list[Problem]:
        problems = folder_problems(self.folder, self.guard.option)
        if problems:
            return problems
        return [p for name in self._targets(produced)
                for p in _destination_problems(self.folder / name, self.guard,
                                               f"option {self.guard.option}, file '{name}'")]

    @contextlib.contextmanager
    def staging(self) -> Iterator[Path]:
        """A private folder to write the set into; renamed into place when the block ends
        without an exception, removed otherwise."""
        self.folder.mkdir(parents=True, exist_ok=True)
        recover(self.folder)
        problems = self.check()
        if problems:
            raise InputError(str(self.folder), problems)
        staging = self.folder / f"{_STAGING_PREFIX}{_token()}"
        staging.mkdir()
        try:
            yield staging
            self.written = self._commit(staging)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _commit(self, staging: Path) -> tuple[Path, ...]:
        produced = sorted(entry.name for entry in os.scandir(staging))
        unplanned = [name for name in produced if not self._matches(name)]
        if unplanned:
            raise RuntimeError(f"outputs written {unplanned} are not among those planned "
                               f"{list(self.names)}")
        for name in produced:
            _fsync_file(staging / name)
        _fsync_folder(staging)
        journal = self.folder / JOURNAL
        with _signals_held():
            problems = self.check(produced)  # again: the folder may have changed meanwhile
            if problems:
                raise InputError(str(self.folder), problems)
            _write_small(journal, json.dumps({"staging": staging.name, "names": produced}))
            for name in produced:
                os.replace(staging / name, self.folder / name)
            _fsync_folder(self.folder)
            journal.unlink()
            _fsync_folder(self.folder)
        rank = {name: i for i, name in enumerate(self.names)}
        ordered = sorted(produced, key=lambda name: (rank.get(name, len(rank)), name))
        return tuple(self.folder / name for name in ordered)


def _is_pattern(name: str) -> bool:
    return any(c in name for c in "*?[")


def _write_small(path: Path, text: str) -> None:
    """Write a small file by a temporary name and a rename, durably."""
    temporary = path.with_name(f"{_TMP_MARK}{_token()}-{path.name}")
    with open(temporary, "x", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


@dataclass
class FilePlan:
    """One file to write; see the module's description."""

    path: Path
    guard: OutputGuard
    written: tuple[Path, ...] = ()

    def check(self) -> list[Problem]:
        where = f"option {self.guard.option}"
        if str(self.path).endswith(("/", os.sep)) or self.path.is_dir():
            return [Problem(where, "a file name to write", f"a folder ('{self.path}')")]
        problems = folder_problems(self.path.parent, self.guard.option)
        if problems:
            # the folder above a file may be a symbolic link: only its existence matters here
            problems = [p for p in problems if "symbolic link" not in p.expected]
            if problems:
                return problems
        return _destination_problems(self.path, self.guard, where)

    @contextlib.contextmanager
    def staging(self) -> Iterator[Path]:
        """A temporary path beside the output to write to; renamed over the output when the
        block ends without an exception, removed otherwise."""
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True)
        recover(folder)
        problems = self.check()
        if problems:
            raise InputError(str(self.path), problems)
        temporary = folder / f"{_TMP_MARK}{_token()}-{self.path.name}"
        try:
            yield temporary
            if not temporary.is_file():
                raise RuntimeError(f"the output {self.path} was not written")
            _fsync_file(temporary)
            with _signals_held():
                problems = self.check()
                if problems:
                    raise InputError(str(self.path), problems)
                _rename_into_place(temporary, self.path, replace=self.guard.force)
                _fsync_folder(folder)
            self.written = (self.path,)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()


def _rename_into_place(source: Path, target: Path, *, replace: bool) -> None:
    """Rename ``source`` to ``target``; without ``replace``, never over an existing file (a hard
    link and an unlink, atomic where the file system has links)."""
    if replace:
        os.replace(source, target)
        return
    try:
        os.link(source, target)
    except FileExistsError:
        raise InputError(str(target), [Problem(
            "the output", "a file that does not exist yet (or --force to replace it)",
            f"'{target}', which appeared while the command ran; left as it is")]) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV,
                             errno.EMLINK):
            raise
        os.replace(source, target)  # no hard links here; checked just before
        return
    source.unlink()


def plan_folder(folder: Path | str, names: Iterable[str], guard: OutputGuard) -> FolderPlan:
    """Check that the set ``names`` can be written into ``folder``; ``InputError`` with every
    problem otherwise. Nothing is created until :meth:`FolderPlan.staging` is entered."""
    plan = FolderPlan(Path(folder), tuple(names), guard)
    for name in plan.names:
        if Path(name).name != name or name.startswith("."):
            raise ValueError(f"output names are plain file names or patterns: {name!r}")
    problems = plan.check()
    if problems:
        raise InputError(str(plan.folder), problems)
    return plan


def plan_file(path: Path | str, guard: OutputGuard) -> FilePlan:
    """Check that ``path`` can be written; ``InputError`` with every problem otherwise."""
    plan = FilePlan(Path(path), guard)
    problems = plan.check()
    if problems:
        raise InputError(str(plan.path), problems)
    return plan
