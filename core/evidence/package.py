"""The case package: one ZIP an investigator hands on, and `verify`, which proves it is unchanged.

`python -m core package ID -o case.zip` (or the dashboard's download) writes:

    manifest.json           what is inside: every file's SHA-256 and size, the original's SHA-256
                            recorded at upload, Sigma's version, the engine, model and prompt versions,
                            the case and its legal hold, the events and their clips, who made the
                            package and when, and the manifest's own digest
    manifest.sig            (with EVIDENCE_SIGNING_KEY) an Ed25519 signature of manifest.json
    original/<name>         the original video, exactly as uploaded
    clips/...mp4            a clip per event (core.evidence.clips)
    report/...docx          the DOCX report
    data/result.json        the seed's result JSON (as `export --format json`)
    data/events.csv         the events (as `export --format csv`)
    data/storyboard.json    every analysed window (the report condenses it)
    data/processing-log.json  every step of the analysis with model and prompt versions
    data/audit.json         the audit trail of the incident's video (every run)

Files are copied into the ZIP by the kernel (stored, not compressed: video does not compress) and read
back from it for their SHA-256 and the ZIP's CRC-32 (in a thread, behind the copy), so the hashes
are of exactly the bytes in the package and memory stays flat however long the video is; the report is
made meanwhile, the clips (several at once) once the original has proved unaltered (those prepared when
the analysis ended, core.evidence.ready, are reused). The original is hashed on the way in: if it no
longer matches the SHA-256 recorded at upload, no package is made (the stored evidence has been altered
or damaged, and that must be looked into, not handed on).

`verify` rereads every file and reports precisely: a file whose bytes changed, a file removed, a file
added, a manifest edited (its own digest no longer matches), a signature that does not verify against
the public key given. Without a signature, someone who edits a file and rewrites the manifest and its
digest to match cannot be detected: sign packages to rule that out.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import mmap
import os
import queue
import re
import threading
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from pydantic import BaseModel
from sqlalchemy import text
from zlib_ng import zlib_ng

import core
from core import repository
from core.access import Principal
from core.config import Settings
from core.db import database
from core.errors import InvalidInput
from core.evidence.audit import Action, record, trail
from core.evidence.clips import CLIP_VERSION, CutMode, EventClip, event_clips
from core.export import file_name, to_csv, to_json, to_storyboard
from core.models import Incident
from core.schema import ACTIVE_STATUSES
from core.storage import video_path
from core.views import IncidentRecord

FORMAT = "sigma-case-package/1"
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
_CHUNK = 4 * 1024 * 1024
_PIECE_BYTES = 32 * 1024 * 1024  # copied by the kernel at a time, then read back for the hashes
_COMPRESSED_SUFFIXES = (".json", ".csv")

Progress = Callable[[float, str], None]


@dataclass
class PackageResult:
    path: Path
    files: list[dict]
    signed: bool
    manifest_sha256: str


class VerifyReport(BaseModel):
    """What `verify` found: `problems` make the package fail (exit 4); `notes` are for information."""

    package: str
    intact: bool
    checked: int
    signed: bool
    problems: list[str]
    notes: list[str]


# --- writing ---------------------------------------------------------------------------------------


@dataclass
class _Writer:
    """Members of the ZIP being written, each hashed as its bytes go in."""

    zip: zipfile.ZipFile
    when: tuple[int, int, int, int, int, int]
    files: list[dict] = field(default_factory=list)

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=self.when)
        info.compress_type = (
            zipfile.ZIP_DEFLATED if name.endswith(_COMPRESSED_SUFFIXES) else zipfile.ZIP_STORED
        )
        info.external_attr = 0o644 << 16
        return info

    def _entry(self, name: str, sha256: str, size: int) -> dict:
        entry = {"path": name, "sha256": sha256, "size": size}
        self.files.append(entry)
        return entry

    def add_bytes(self, name: str, data: bytes) -> dict:
        with self.zip.open(self._info(name), "w", force_zip64=True) as out:
            out.write(data)
        return self._entry(name, hashlib.sha256(data).hexdigest(), len(data))

    def add_file(self, name: str, path: Path, on_chunk: Callable[[int], None] | None = None) -> dict:
        """Stream a file in: the kernel copies it into the ZIP piece by piece (`sendfile`: the bytes never
        pass through this program, as in a plain copy), and a thread reads each piece back from the ZIP
        just written (the page cache) for its SHA-256 and the ZIP's CRC-32, behind the copy. So the
        hashes are of exactly the bytes in the package, and memory stays flat however long the video."""
        output = self.zip.fp
        with open(path, "rb") as source, self.zip.open(self._info(name), "w", force_zip64=True) as out:
            output.flush()  # the member's header is written: its data starts here
            start = output.tell()
            size = 0
            with _ReadBack(output.fileno()) as checked:
                while count := _copy_piece(source.fileno(), output.fileno(), size):
                    checked.follow(start + size, count)
                    size += count
                    if on_chunk:
                        on_chunk(count)
            output.seek(start + size)  # past the data sent behind the buffered file's back
            # what `out.write` would have counted; `close` writes them into the member's header
            out._file_size = out._compress_size = size
            out._crc = checked.crc32
        written = self.zip.getinfo(name)
        if (written.CRC, written.file_size) != (checked.crc32, size):  # zipfile's internals changed
            raise RuntimeError(f"{name}: the ZIP header does not record the data written")
        return self._entry(name, checked.sha256.hexdigest(), size)


def _copy_piece(source: int, target: int, offset: int) -> int:
    """Copy up to `_PIECE_BYTES` of `source` from `offset` to where `target` stands (advancing it), in
    the kernel; how many bytes (0 at the end). Where `sendfile` cannot write to a file, by reading and
    writing."""
    try:
        return os.sendfile(target, source, offset, _PIECE_BYTES)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSOCK, errno.EOPNOTSUPP):
            raise
    data = os.pread(source, _PIECE_BYTES, offset)
    view, done = memoryview(data), 0
    while done < len(data):
        done += os.write(target, view[done:])
    return len(data)


class _ReadBack:
    """A thread that reads pieces of a file (as `follow` names them, in order) from a memory map of each
    (the page cache itself: nothing copied, one call per piece, so the thread seldom waits for
    Python's lock while the report is being built) for their SHA-256 and CRC-32 (zlib-ng's: the
    standard zlib's would cost a third of the hashing again), then hands the piece to the disk to
    write, so the package's final fsync has little left. An error in the thread is raised when the
    block ends."""

    def __init__(self, descriptor: int) -> None:
        self._descriptor = descriptor
        self.sha256 = hashlib.sha256()
        self.crc32 = 0
        self._pieces: queue.SimpleQueue[tuple[int, int] | None] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="package-read-back", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def follow(self, offset: int, count: int) -> None:
        self._pieces.put((offset, count))

    def _run(self) -> None:
        while (piece := self._pieces.get()) is not None:
            if self._error is not None:
                continue
            offset, count = piece
            aligned = offset - offset % mmap.ALLOCATIONGRANULARITY
            try:
                with (
                    mmap.mmap(
                        self._descriptor, offset + count - aligned, offset=aligned, prot=mmap.PROT_READ
                    ) as mapped,
                    memoryview(mapped) as whole,
                    whole[offset - aligned :] as data,
                ):
                    self.sha256.update(data)
                    self.crc32 = zlib_ng.crc32(data, self.crc32)
                os.posix_fadvise(self._descriptor, offset, count, os.POSIX_FADV_DONTNEED)
            except Exception as error:  # noqa: BLE001 - raised in the writing thread by __exit__
                self._error = error

    def __exit__(self, *exc: object) -> None:
        self._pieces.put(None)
        self._thread.join()
        if self._error is not None and exc[0] is None:
            raise self._error


def _safe(name: str, limit: int = 80) -> str:
    """A member name from a user's file name: letters (any script), digits, '-', '_' and '.'."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
    return re.sub(r"-{2,}", "-", cleaned).strip("-.")[:limit] or "video"


def _json(data: object) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n").encode("utf-8")


def canonical(manifest: dict) -> bytes:
    """The bytes the manifest's digest is taken over: sorted keys, no spaces, without `digest`."""
    body = {key: value for key, value in manifest.items() if key != "digest"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def build_package(
    incident_id: int,
    output: str | Path,
    settings: Settings,
    *,
    actor: Principal,
    lang: str = "en",
    pre_roll: float | None = None,
    post_roll: float | None = None,
    mode: CutMode | None = None,
    progress: Progress | None = None,
) -> PackageResult:
    """Write the case package of one incident to `output` (atomically: a partial file, then rename)
    and record it in the audit trail. `InvalidInput` says why none can be made."""
    from core.report import build_report

    step = progress or (lambda fraction, stage: None)
    signing_key = load_signing_key(settings) if settings.evidence_signing_key else None
    with database(settings).session() as session:
        incident = repository.get_incident(session, incident_id)
        if incident is None:
            raise InvalidInput(f"no incident {incident_id}")
        if incident.status in {s.value for s in ACTIVE_STATUSES}:
            raise InvalidInput(
                f"incident {incident_id} is still {incident.status}: package it when it is done"
            )
        events = repository.events_of(session, incident_id)
        storyboard = to_storyboard(incident, repository.windows_of(session, incident_id))
        logs = [_log_entry(row) for row in repository.logs_of(session, incident_id)]
        audit = [entry.model_dump(mode="json") for entry in trail(session, incident_id=incident_id)]
        result_json = to_json(incident) if incident.analysis_json is not None else None
        events_csv = to_csv(incident, events) if incident.analysis_json is not None else None
        schema = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    source = video_path(settings, incident.stored_name)
    if not source.is_file():
        raise InvalidInput(
            f"the original video of incident {incident_id} ({incident.original_name}) is no longer in "
            "storage: a case package without it would not be evidence"
        )

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial")
    made_at = datetime.now(UTC).replace(microsecond=0)
    try:
        # the report is made while the original streams in (its pictures are decoded outside Python's
        # lock); clips are cut only once the original has proved unaltered (none from altered evidence)
        # opened for reading too: each member is read back for its hashes
        with open(partial, "w+b") as handle, ThreadPoolExecutor(max_workers=1) as helper:
            reporting = helper.submit(build_report, incident_id, settings, lang=lang)
            with zipfile.ZipFile(handle, "w", allowZip64=True) as archive:
                writer = _Writer(archive, made_at.timetuple()[:6])
                original = _add_original(writer, incident, source, step)  # first: refused if altered
                step(0.6, "cutting clips")
                clips = (
                    event_clips(settings, incident_id, pre_roll=pre_roll, post_roll=post_roll, mode=mode)
                    if events
                    else []
                )
                for clip in clips:
                    writer.add_file(f"clips/{clip.file_name}", clip.cut.path)
                step(0.85, "writing the report")
                report = reporting.result()
                writer.add_bytes(f"report/{file_name(incident, 'docx')[:-5]}-{lang}.docx", report)
                if result_json is not None:
                    writer.add_bytes("data/result.json", (result_json + "\n").encode("utf-8"))
                    writer.add_bytes("data/events.csv", events_csv.encode("utf-8-sig"))
                writer.add_bytes("data/storyboard.json", (storyboard + "\n").encode("utf-8"))
                writer.add_bytes("data/processing-log.json", _json(logs))
                writer.add_bytes("data/audit.json", _json(audit))
                manifest = _manifest(
                    incident, events, clips, original, writer.files, actor, made_at, schema,
                    pre_roll if pre_roll is not None else settings.clip_pre_roll_sec,
                    post_roll if post_roll is not None else settings.clip_post_roll_sec,
                    mode or settings.clip_cut,
                )  # fmt: skip
                if signing_key is not None:
                    manifest["signature"] = {
                        "algorithm": "Ed25519",
                        "file": SIGNATURE,
                        "public_key": base64.b64encode(_raw_public(signing_key)).decode(),
                        "public_key_sha256": hashlib.sha256(_raw_public(signing_key)).hexdigest(),
                    }
                manifest["digest"] = hashlib.sha256(canonical(manifest)).hexdigest()
                manifest_bytes = _json(manifest)
                archive.writestr(writer._info(MANIFEST), manifest_bytes)
                if signing_key is not None:
                    signature = base64.b64encode(signing_key.sign(manifest_bytes)) + b"\n"
                    archive.writestr(writer._info(SIGNATURE), signature)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
    with database(settings).session() as session:
        record(
            session, actor, Action.PACKAGE, incident_id=incident_id,
            details={"file": output.name, "files": len(writer.files), "manifest sha256": manifest_sha256,
                     "signed": signing_key is not None},
        )  # fmt: skip
    step(1.0, "done")
    return PackageResult(output, writer.files, signing_key is not None, manifest_sha256)


def _add_original(writer: _Writer, incident: Incident, source: Path, step: Progress) -> dict:
    total = max(1, source.stat().st_size)
    done = 0
    last = time.monotonic()

    def on_chunk(size: int) -> None:
        nonlocal done, last
        done += size
        if time.monotonic() - last > 0.5:
            last = time.monotonic()
            step(0.6 * done / total, "copying the original video")

    name = f"original/{_safe(Path(incident.original_name).stem)}{Path(incident.stored_name).suffix}"
    entry = writer.add_file(name, source, on_chunk)
    if entry["sha256"] != incident.sha256:
        raise InvalidInput(
            f"the stored original of incident {incident.id} no longer matches the SHA-256 recorded at upload "
            f"({incident.sha256[:16]}…, now {entry['sha256'][:16]}…): it has been altered or damaged in "
            "storage. No package was made."
        )
    return entry


def _log_entry(row) -> dict:
    return {
        "step": row.step, "level": row.level, "message": row.message, "model_version": row.model_version,
        "prompt_version": row.prompt_version, "started_at": _iso(row.started_at),
        "finished_at": _iso(row.finished_at),
    }  # fmt: skip


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


def _manifest(
    incident: Incident,
    events: list,
    clips: list[EventClip],
    original: dict,
    files: list[dict],
    actor: Principal,
    made_at: datetime,
    schema: str | None,
    pre_roll: float,
    post_roll: float,
    cut_mode: str,
) -> dict:
    from core.engines.local import MODEL_VERSION as LOCAL_ENGINE_VERSION
    from core.prompts import PROMPT_VERSION
    from core.video import ffmpeg_exe

    clip_of = {clip.number: clip for clip in clips}
    return {
        "format": FORMAT,
        "made_at": made_at.isoformat(),
        "made_by": actor.model_dump(),
        "sigma": {
            "version": core.__version__,
            "database_schema": schema,
            "prompt_version": PROMPT_VERSION,
            "local_engine_version": LOCAL_ENGINE_VERSION,
            "clip_version": CLIP_VERSION,
            "ffmpeg": Path(ffmpeg_exe()).name,
        },
        "incident": {
            "id": incident.id,
            "first_run_id": incident.run_of_id or incident.id,
            "original_name": incident.original_name,
            "uploaded_at": _iso(incident.created_at),
            "status": incident.status,
            "error": incident.error,
            "duration_sec": incident.duration,
            "width": incident.width,
            "height": incident.height,
            "fps": incident.fps,
            "frame_count": incident.frame_count,
            "codec": incident.codec,
            "case": {
                "case_number": incident.case_number,
                "investigator": incident.investigator,
                "note": incident.case_note,
            },
            "legal_hold": (
                {"reason": incident.hold_reason, "by": incident.held_by, "since": _iso(incident.held_at)}
                if incident.hold_reason
                else None
            ),
        },
        "analysis": {
            "engine": incident.engine,
            "model_version": incident.model_version,
            "prompt_version": incident.prompt_version,
            "parameters": incident.params,
            "passes_run": incident.passes_run,
            "inferred_domain": incident.inferred_domain,
            "started_at": _iso(incident.started_at),
            "finished_at": _iso(incident.finished_at),
        },
        "original": {
            "path": original["path"],
            "sha256": original["sha256"],
            "sha256_at_upload": incident.sha256,
            "matches_upload": original["sha256"] == incident.sha256,
            "size": original["size"],
        },
        "events": [
            {
                "number": number,
                "id": event.id,
                "event_type": event.event_type,
                "start_time": event.start_time,
                "end_time": event.end_time,
                "confidence": event.confidence,
                "description": event.description,
                "review": {
                    "status": event.review_status.value if event.review_status else None,
                    "note": event.review_note,
                    "by": event.reviewed_by,
                    "at": _iso(event.reviewed_at),
                    "carried_over_from_event": event.review_carried_from,
                },
                "clip": f"clips/{clip_of[number].file_name}" if number in clip_of else None,
            }
            for number, event in enumerate(events, start=1)
        ],
        "clips": [
            {
                "path": f"clips/{clip.file_name}",
                "event_number": clip.number,
                "event_id": clip.event.id,
                "from_sec": clip.cut.start,
                "to_sec": clip.cut.end,
                "frames": clip.cut.frames,
                "cut": cut_mode,
                "method": clip.cut.method,
                "why": clip.cut.reason,
                "pre_roll_sec": pre_roll,
                "post_roll_sec": post_roll,
            }
            for clip in clips
        ],
        "files": files,
        "signature": None,
    }


# --- signing ---------------------------------------------------------------------------------------


def load_signing_key(settings: Settings):
    """The Ed25519 private key of EVIDENCE_SIGNING_KEY (PEM, unencrypted), or `InvalidInput` saying why not."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    path = settings.evidence_signing_key
    try:
        key = load_pem_private_key(Path(path).read_bytes(), password=None)
    except OSError as error:
        raise InvalidInput(
            f"EVIDENCE_SIGNING_KEY {path} cannot be read: {error.strerror or error}"
        ) from error
    except (ValueError, TypeError) as error:
        raise InvalidInput(
            f"EVIDENCE_SIGNING_KEY {path} is not an unencrypted PEM private key ({error}); make one with "
            "`openssl genpkey -algorithm ed25519 -out signing-key.pem`"
        ) from error
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInput(f"EVIDENCE_SIGNING_KEY {path} is not an Ed25519 key")
    return key


def _raw_public(private_key) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def load_public_key(path: str | Path):
    """An Ed25519 public key from a PEM file (`openssl pkey -in key.pem -pubout`), or `InvalidInput`."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(Path(path).read_bytes())
    except OSError as error:
        raise InvalidInput(f"public key {path} cannot be read: {error.strerror or error}") from error
    except (ValueError, TypeError) as error:
        raise InvalidInput(f"{path} is not a PEM public key ({error})") from error
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput(f"{path} is not an Ed25519 public key")
    return key


# --- verifying -------------------------------------------------------------------------------------


def verify(package: str | Path, *, public_key: str | Path | None = None) -> VerifyReport:
    """Recheck a case package: every file against the manifest, the manifest against its digest and,
    when signed, its signature. `InvalidInput` only when the package or the key cannot be read at all."""
    package = Path(package)
    if not package.is_file():
        raise InvalidInput(f"file not found: {package}")
    given_key = load_public_key(public_key) if public_key else None
    problems: list[str] = []
    notes: list[str] = []
    try:
        archive = zipfile.ZipFile(package)
    except zipfile.BadZipFile:
        return _report(package, ["not a ZIP archive: this is not a Sigma case package"], notes, 0, False)
    with archive:
        names = [info.filename for info in archive.infolist()]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        problems += [f"duplicated: {name} (two files of this name in the package)" for name in duplicates]
        if MANIFEST not in names:
            problems.append(f"missing: {MANIFEST} (without it nothing can be checked)")
            return _report(package, problems, notes, 0, False)
        try:
            manifest_bytes = archive.read(MANIFEST)
            manifest = json.loads(manifest_bytes)
            listed = {entry["path"]: entry for entry in manifest["files"]}
        except (zipfile.BadZipFile, ValueError, KeyError, TypeError) as error:
            problems.append(f"manifest edited: {MANIFEST} cannot be read as a Sigma manifest ({error})")
            return _report(package, problems, notes, 0, False)
        if manifest.get("digest") != hashlib.sha256(canonical(manifest)).hexdigest():
            problems.append(f"manifest edited: {MANIFEST} no longer matches its own digest")
        signed = _check_signature(archive, names, manifest, manifest_bytes, given_key, problems, notes)
        for name in names:
            if name not in listed and name not in (MANIFEST, SIGNATURE):
                problems.append(f"added: {name} (in the package, not in the manifest)")
        checked = 0
        for path, entry in listed.items():
            if path not in names:
                problems.append(f"removed: {path} (in the manifest, not in the package)")
                continue
            problem = _check_member(archive, path, entry)
            checked += 1
            if problem:
                problems.append(problem)
        original = manifest.get("original") or {}
        if original.get("sha256") != original.get("sha256_at_upload"):
            problems.append(
                f"changed: {original.get('path')} is not the video uploaded (its SHA-256 differs from the one "
                "recorded at upload)"
            )
    if not signed and not given_key:
        notes.append(
            "not signed: a file changed together with a rewritten manifest and digest would not be noticed; "
            "sign packages with EVIDENCE_SIGNING_KEY to rule that out"
        )
    return _report(package, problems, notes, checked, signed)


def _check_member(archive: zipfile.ZipFile, path: str, entry: dict) -> str | None:
    digest, size = hashlib.sha256(), 0
    try:
        with archive.open(path) as member:
            while chunk := member.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        return f"changed: {path} (its bytes in the ZIP are damaged: {error})"
    if digest.hexdigest() != entry.get("sha256"):
        return (
            f"changed: {path} (SHA-256 {digest.hexdigest()[:16]}…, the manifest says "
            f"{str(entry.get('sha256'))[:16]}…; {size:,} bytes, the manifest says {entry.get('size'):,})"
        )
    if size != entry.get("size"):
        return f"changed: {path} ({size:,} bytes, the manifest says {entry.get('size')})"
    return None


def _check_signature(archive, names, manifest, manifest_bytes, given_key, problems, notes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    declared = manifest.get("signature")
    if SIGNATURE not in names:
        if declared:
            problems.append(f"removed: {SIGNATURE} (the manifest says the package is signed)")
        elif given_key is not None:
            problems.append("not signed: a public key was given, but the package carries no signature")
        return False
    try:
        signature = base64.b64decode(archive.read(SIGNATURE).strip(), validate=True)
    except (ValueError, zipfile.BadZipFile):
        problems.append(f"signature invalid: {SIGNATURE} is not a base64 signature")
        return True
    named = None
    if declared and declared.get("public_key"):
        try:
            named = Ed25519PublicKey.from_public_bytes(base64.b64decode(declared["public_key"]))
        except ValueError:
            named = None
    key = given_key or named
    if key is None:
        problems.append("signature invalid: no public key given and none named in the manifest")
        return True
    try:
        key.verify(signature, manifest_bytes)
    except InvalidSignature:
        whose = "the public key given" if given_key is not None else "the key the manifest names"
        problems.append(f"signature invalid: {SIGNATURE} does not verify with {whose} (the manifest was edited "
                        "or signed by someone else)")  # fmt: skip
        return True
    if given_key is None:
        fingerprint = (declared or {}).get("public_key_sha256", "?")
        notes.append(
            f"signed by the key the manifest names (SHA-256 {fingerprint[:16]}…); give --public-key to check "
            "it is the key you expect"
        )
    return True


def _report(package: Path, problems: list[str], notes: list[str], checked: int, signed: bool) -> VerifyReport:
    return VerifyReport(
        package=str(package),
        intact=not problems,
        checked=checked,
        signed=signed,
        problems=problems,
        notes=notes,
    )


def package_bytes_name(incident: Incident | IncidentRecord) -> str:
    """The download name of a case package: sigma-12-junction-case.zip."""
    return file_name(incident, "zip").replace(".zip", "-case.zip")
