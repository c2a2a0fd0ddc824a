"""A release on disk: a folder anyone can check offline, with ``sha256sum -c`` or ``referee
release verify``.

The folder (default ``releases/<dataset slug>/<version slug>``) holds:

* ``rows.jsonl`` — the canonical rows: one JSON object per line, every provenance field
  (:meth:`LabeledPair.to_json <formats.rows.LabeledPair.to_json>`), byte for byte the
  bodies frozen in the database; the manifest's ``rows_sha256`` is this file's SHA-256;
* ``manifest.json`` — the manifest, whose ``files`` lists every data file with its byte size and
  SHA-256 (the manifest cannot list its own hash);
* ``SHA256SUMS`` — ``<sha256>  <file>`` lines for ``rows.jsonl`` and ``manifest.json``, the
  format ``sha256sum`` prints, so ``cd DIR && sha256sum -c SHA256SUMS`` checks a copy anywhere.

Folders are made from safe slugs (:func:`folder_slug`) and never overwrite anything: the files
are written into a fresh staging folder beside the target, which is then renamed into place;
an existing, non-empty target is refused before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kernel.errors import RuntimeFailure, UserError

ROWS_FILE = "rows.jsonl"
MANIFEST_FILE = "manifest.json"
SUMS_FILE = "SHA256SUMS"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_CHUNK = 1 << 20


class UnsafeName(UserError):
    """A dataset or version name that cannot name a folder safely (``..``, a separator, ...)."""


class ReleaseExists(UserError):
    """The release folder already exists and holds files: releases are never overwritten."""


def folder_slug(name: str, what: str) -> str:
    """A folder name for ``name``, or :class:`UnsafeName` saying why it cannot be one.

    Refused: empty names, ``.`` and ``..`` (and any name containing ``..``), path separators
    (``/``, ``\\``), absolute paths, drive letters and control or format characters. Other
    characters outside ``[A-Za-z0-9._-]`` become ``_`` and the name then gets ``-`` and the
    first 8 hex digits of its SHA-256, so two names never share a folder.
    """
    problem = _unsafe(name)
    if problem is not None:
        raise UnsafeName(
            f"{what} {name!r} cannot name a folder ({problem}); give the folder with --out DIR"
        )
    slug = _SAFE.sub("_", name)
    if slug != name:
        slug = f"{slug}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:8]}"
    return slug


def _unsafe(name: str) -> str | None:
    if not name.strip():
        return "it is empty"
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        return "it holds a control character"
    if "/" in name or "\\" in name:
        return "it holds a path separator"
    if ".." in name or name.strip() == ".":
        return "it holds '..' or is '.'"
    if os.path.isabs(name) or re.match(r"^[A-Za-z]:", name):
        return "it is an absolute path"
    if name.startswith("."):
        return "it starts with '.' (a hidden folder)"
    return None


def default_folder(root: Path, dataset: str, version: str) -> Path:
    """``root/<dataset slug>/<version slug>``."""
    return root / folder_slug(dataset, "dataset name") / folder_slug(version, "release name")


def check_free(folder: Path) -> None:
    """Refuse a folder that exists with anything in it (or is a file)."""
    if folder.is_file() or (folder.is_dir() and any(folder.iterdir())):
        raise ReleaseExists(
            f"{folder} already exists and holds files; a release is never overwritten: "
            "choose a new --name or another --out folder"
        )


def sha256_file(path: Path) -> str:
    """The SHA-256 of ``path``'s bytes, as ``sha256sum`` prints it."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_entry(path: Path) -> dict[str, Any]:
    """``{"path", "bytes", "sha256"}`` of one written file."""
    return {"path": path.name, "bytes": path.stat().st_size, "sha256": sha256_file(path)}


def write_release_folder(folder: Path, bodies: Iterable[str], manifest: dict[str, Any]) -> Path:
    """Write rows, manifest (with ``files``) and SHA256SUMS into ``folder``; return it.

    ``bodies`` are the canonical JSON rows; ``manifest["files"]`` (made with the release) must
    describe the rows file written. Written into a staging folder first, so a failure leaves
    nothing behind.
    """
    check_free(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".referee-release-", dir=folder.parent))
    try:
        rows = staging / ROWS_FILE
        with rows.open("w", encoding="utf-8", newline="\n") as handle:
            for body in bodies:
                handle.write(body)
                handle.write("\n")
        if manifest.get("files") != [file_entry(rows)]:  # what the database froze
            raise RuntimeFailure(f"{ROWS_FILE} does not match the rows frozen in the database")
        text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
        (staging / MANIFEST_FILE).write_text(text, encoding="utf-8", newline="\n")
        sums = "".join(f"{sha256_file(staging / n)}  {n}\n" for n in (ROWS_FILE, MANIFEST_FILE))
        (staging / SUMS_FILE).write_text(sums, encoding="utf-8", newline="\n")
        if folder.is_dir():
            folder.rmdir()  # empty (check_free); rename needs the name free
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


@dataclass
class Verification:
    """What :func:`verify_folder` found: ``problems`` empty means every check passed."""

    folder: str
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every listed file is present with its size and hash."""
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        """A plain dict for JSON output."""
        return {
            "folder": self.folder,
            "ok": self.ok,
            "checked": self.checked,
            "problems": self.problems,
            "unlisted": self.unlisted,
        }


class NotARelease(UserError):
    """The folder has no readable manifest.json or SHA256SUMS."""


def _read_sums(folder: Path) -> dict[str, str]:
    path = folder / SUMS_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise NotARelease(
            f"{path}: cannot read it ({exc}); is {folder} a release folder?"
        ) from None
    sums: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        found = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line.strip())
        if found is None:
            raise NotARelease(f"{path}:{number}: not a '<sha256>  <file>' line")
        sums[found.group(2)] = found.group(1)
    return sums


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise NotARelease(f"{path}: cannot read it as JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
        raise NotARelease(f"{path}: has no 'files' list; is it a release manifest?")
    return doc


def _check_file(folder: Path, name: str, want: str, size: int | None, out: Verification) -> None:
    path = folder / name
    if _unsafe(name) is not None or not path.is_file():
        out.problems.append(f"{name}: missing")
        return
    if size is not None and path.stat().st_size != size:
        out.problems.append(f"{name}: {path.stat().st_size} bytes, the manifest says {size}")
    got = sha256_file(path)
    if got != want:
        out.problems.append(f"{name}: sha256 {got}, expected {want}")
    out.checked.append(name)


def verify_folder(folder: Path) -> Verification:
    """Check a release folder offline: SHA256SUMS, the manifest's files and ``rows_sha256``."""
    out = Verification(str(folder))
    sums = _read_sums(folder)
    for name, want in sums.items():
        _check_file(folder, name, want, None, out)
    manifest = _read_manifest(folder)
    for entry in manifest["files"]:
        name, want, size = entry.get("path"), entry.get("sha256"), entry.get("bytes")
        if not isinstance(name, str) or not isinstance(want, str):
            out.problems.append(f"{MANIFEST_FILE}: a 'files' entry lacks path or sha256")
            continue
        if sums.get(name, want) != want:
            out.problems.append(f"{name}: SHA256SUMS and the manifest disagree")
        _check_file(folder, name, want, size if isinstance(size, int) else None, out)
    rows = folder / ROWS_FILE
    if rows.is_file() and manifest.get("rows_sha256") != sha256_file(rows):
        out.problems.append(f"{ROWS_FILE}: does not match the manifest's rows_sha256")
    if rows.is_file() and isinstance(manifest.get("row_counts"), dict):
        with rows.open("rb") as handle:
            lines = sum(1 for _ in handle)
        want_rows = manifest["row_counts"].get("rows")
        if want_rows != lines:
            out.problems.append(f"{ROWS_FILE}: {lines} rows, the manifest says {want_rows}")
    listed = set(sums) | {SUMS_FILE} | {e.get("path") for e in manifest["files"]}
    out.unlisted = sorted(p.name for p in folder.iterdir() if p.name not in listed)
    out.checked = sorted(set(out.checked))
    return out


__all__ = [
    "MANIFEST_FILE",
    "ROWS_FILE",
    "SUMS_FILE",
    "NotARelease",
    "ReleaseExists",
    "UnsafeName",
    "Verification",
    "check_free",
    "default_folder",
    "file_entry",
    "folder_slug",
    "sha256_file",
    "verify_folder",
    "write_release_folder",
]
