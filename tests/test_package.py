"""The case package: what is inside and what its manifest says, signing, and `verify` catching every
kind of tampering (a byte changed, a file removed or added, the manifest edited, a wrong signature)."""

from __future__ import annotations

import base64
import errno
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from docx import Document

import core
from core import repository, service
from core.access import Principal
from core.cli import main as cli_main
from core.config import get_settings
from core.db import dispose_engines, get_engine, session_scope
from core.errors import InvalidInput
from core.evidence.audit import trail_of
from core.evidence.package import build_package, canonical, verify
from core.schema import Event, ReviewStatus
from core.storage import video_path
from tests.conftest import make_settings
from tests.stored_results import store_incident

ALICE = Principal(name="alice", role="analyst", via="password")
REPORT = "report/sigma-{id}-перекрёсток--камера-3-ru.docx"  # core.export.file_name's stem


def _store(settings, clip) -> int:
    incident_id = store_incident(
        settings,
        clip,
        name="перекрёсток, камера 3.mp4",
        windows=[(i * 1.0, i * 1.0 + 1.0, f"window {i}") for i in range(8)],
        events=[
            Event(event_type="COLLISION", start_time=4.0, end_time=5.0, confidence=0.9, description="crash"),
            Event(event_type="FALL", start_time=6.0, end_time=6.4, confidence=0.6),
        ],
        logs=[("start", "analysis started")],
    )
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        first = repository.events_of(session, incident_id)[0].id
    service.review(first, settings, status=ReviewStatus.CONFIRMED, note="two cars", actor=ALICE)
    service.set_case(
        incident_id, settings, case_number="2026/117", investigator="I. Petrov", note=None, actor=ALICE
    )
    service.set_hold(incident_id, "prosecutor's request", settings, actor=ALICE)
    return incident_id


def _keys(folder: Path, name: str = "key") -> tuple[Path, Path]:
    key = Ed25519PrivateKey.generate()
    private, public = folder / f"{name}.pem", folder / f"{name}.pub"
    private.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    return private, public


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info.filename) for info in archive.infolist()}


def _rewrite(source: Path, target: Path, members: dict[str, bytes]) -> Path:
    """A package rebuilt with these members (as someone with a ZIP tool would)."""
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return target


def test_the_package_holds_every_file_and_a_manifest_that_says_what_they_are(db_settings, clips, tmp_path):
    incident_id = _store(db_settings, clips["collision"])
    made = build_package(incident_id, tmp_path / "case.zip", db_settings, actor=ALICE, lang="ru")
    members = _members(made.path)
    clips_in = sorted(name for name in members if name.startswith("clips/"))
    assert clips_in == [
        f"clips/sigma-{incident_id}-event-01-COLLISION.mp4",
        f"clips/sigma-{incident_id}-event-02-FALL.mp4",
    ]
    assert set(members) == {
        "manifest.json", "original/перекрёсток-камера-3.mp4", *clips_in, "data/result.json", "data/events.csv",
        "data/storyboard.json", "data/processing-log.json", "data/audit.json",
        REPORT.format(id=incident_id),
    }  # fmt: skip
    manifest = json.loads(members["manifest.json"])
    with session_scope(get_engine(db_settings.resolved_database_url)) as session:
        incident = repository.get_incident(session, incident_id)
    assert (
        members["original/перекрёсток-камера-3.mp4"]
        == video_path(db_settings, incident.stored_name).read_bytes()
    )
    assert manifest["original"] == {
        "path": "original/перекрёсток-камера-3.mp4", "sha256": incident.sha256,
        "sha256_at_upload": incident.sha256, "matches_upload": True, "size": incident.size_bytes,
    }  # fmt: skip
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert set(listed) == set(members) - {"manifest.json"}
    for name, data in members.items():
        if name != "manifest.json":
            assert listed[name] == {
                "path": name,
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
            }
    assert manifest["made_by"] == {"name": "alice", "role": "analyst", "via": "password"}
    assert manifest["sigma"]["version"] == core.__version__ and manifest["sigma"]["database_schema"]
    assert (manifest["analysis"]["engine"], manifest["analysis"]["model_version"]) == ("vlm", "test-model-7b")
    assert manifest["analysis"]["prompt_version"] == "test-prompts-1"
    assert manifest["incident"]["case"]["case_number"] == "2026/117"
    assert manifest["incident"]["legal_hold"]["reason"] == "prosecutor's request"
    assert manifest["events"][0]["review"]["by"] == "alice" and manifest["events"][0]["clip"] == clips_in[0]
    assert manifest["digest"] == hashlib.sha256(canonical(manifest)).hexdigest()
    assert json.loads(members["data/storyboard.json"])["windows"][7]["description"] == "window 7"
    assert [e["action"] for e in json.loads(members["data/audit.json"])][:2] == ["upload", "review"]
    report = Document(io.BytesIO(members[REPORT.format(id=incident_id)]))
    assert "2026/117" in "\n".join(cell.text for t in report.tables for row in t.rows for cell in row.cells)

    checked = verify(made.path)
    assert checked.intact and checked.checked == len(members) - 1 and not checked.signed
    assert "not signed" in checked.notes[0]
    last = trail_of(db_settings, incident_id)[-1]
    assert (last.actor, last.action, last.details["manifest sha256"]) == (
        "alice",
        "package",
        made.manifest_sha256,
    )


@pytest.fixture(scope="module")
def package(tmp_path_factory, clips):
    """A signed package (SQLite), made once for the tamper tests, and the public key that checks it.
    Tests change copies of it, never the package itself."""
    folder = tmp_path_factory.mktemp("signed")
    private, public = _keys(folder)
    signing = make_settings(folder, evidence_signing_key=private)
    incident_id = _store(signing, clips["collision"])
    made = build_package(incident_id, folder / "case.zip", signing, actor=ALICE)
    assert made.signed
    yield made.path, public
    dispose_engines()


def test_a_signed_package_verifies_with_its_key_and_not_with_another(package, tmp_path):
    path, public = package
    assert verify(path, public_key=public).intact
    _, other = _keys(tmp_path, "other")
    found = verify(path, public_key=other)
    assert not found.intact
    assert found.problems == [
        "signature invalid: manifest.sig does not verify with the public key given "
        + "(the manifest was edited or signed by someone else)"
    ]


def test_one_byte_changed_in_a_file_is_named(package, tmp_path):
    path, public = package
    members = _members(path)
    clip = next(name for name in members if name.startswith("clips/"))
    data = bytearray(members[clip])
    data[len(data) // 2] ^= 0x01
    members[clip] = bytes(data)
    found = verify(_rewrite(path, tmp_path / "edited.zip", members), public_key=public)
    assert len(found.problems) == 1 and found.problems[0].startswith(f"changed: {clip} (SHA-256 ")


def test_a_byte_flipped_inside_the_zip_itself_is_named(package, tmp_path):
    path, public = package
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(next(n for n in archive.namelist() if n.startswith("original/")))
    raw[info.header_offset + 30 + len(info.filename.encode()) + 100] ^= 0xFF  # inside its data
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(raw))
    found = verify(damaged, public_key=public)
    assert len(found.problems) == 1 and found.problems[0].startswith(f"changed: {info.filename}")


def test_a_file_removed_or_added_is_named(package, tmp_path):
    path, public = package
    members = _members(path)
    del members["data/events.csv"]
    members["notes.txt"] = b"added later"
    found = verify(_rewrite(path, tmp_path / "edited.zip", members), public_key=public)
    assert sorted(found.problems) == [
        "added: notes.txt (in the package, not in the manifest)",
        "removed: data/events.csv (in the manifest, not in the package)",
    ]


def test_an_edited_manifest_is_named_signed_or_not(package, tmp_path, settings, clips):
    path, public = package
    members = _members(path)
    manifest = json.loads(members["manifest.json"])
    manifest["incident"]["case"]["investigator"] = "someone else"
    members["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
    found = verify(_rewrite(path, tmp_path / "edited.zip", members), public_key=public)
    assert "manifest edited: manifest.json no longer matches its own digest" in found.problems
    assert any(p.startswith("signature invalid") for p in found.problems)

    # the digest rewritten to match: the signature still catches it
    manifest["digest"] = hashlib.sha256(canonical(manifest)).hexdigest()
    members["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
    found = verify(_rewrite(path, tmp_path / "edited2.zip", members), public_key=public)
    assert [p.split(":")[0] for p in found.problems] == ["signature invalid"]

    # the signature stripped and the manifest made to say "unsigned": the key given still catches it
    manifest["signature"] = None
    manifest["digest"] = hashlib.sha256(canonical(manifest)).hexdigest()
    members["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
    del members["manifest.sig"]
    found = verify(_rewrite(path, tmp_path / "edited3.zip", members), public_key=public)
    assert found.problems == ["not signed: a public key was given, but the package carries no signature"]


def test_a_signature_file_that_is_not_one_or_is_missing_is_named(package, tmp_path):
    path, public = package
    members = _members(path)
    members["manifest.sig"] = base64.b64encode(b"\x00" * 64) + b"\n"
    assert (
        verify(_rewrite(path, tmp_path / "a.zip", members), public_key=public)
        .problems[0]
        .startswith("signature invalid")
    )
    del members["manifest.sig"]
    assert verify(_rewrite(path, tmp_path / "b.zip", members)).problems == [
        "removed: manifest.sig (the manifest says the package is signed)"
    ]
    without_key = verify(path)  # the key the manifest names: consistent, with a note to check whose
    assert without_key.intact and "give --public-key" in without_key.notes[0]


def test_not_a_package_and_no_manifest_are_refused(tmp_path):
    text = tmp_path / "notes.zip"
    text.write_text("hello")
    assert verify(text).problems == ["not a ZIP archive: this is not a Sigma case package"]
    empty = _rewrite(tmp_path, tmp_path / "empty.zip", {"a.txt": b"a"})
    assert verify(empty).problems == ["missing: manifest.json (without it nothing can be checked)"]
    with pytest.raises(InvalidInput, match="file not found"):
        verify(tmp_path / "absent.zip")


def test_no_package_from_an_original_altered_or_gone_from_storage(db_settings, clips, tmp_path):
    incident_id = _store(db_settings, clips["calm"])
    with session_scope(get_engine(db_settings.resolved_database_url)) as session:
        stored = video_path(db_settings, repository.get_incident(session, incident_id).stored_name)
    with open(stored, "r+b") as handle:
        handle.seek(1000)
        byte = handle.read(1)
        handle.seek(1000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    target = tmp_path / "out" / "case.zip"
    with pytest.raises(InvalidInput, match="no longer matches the SHA-256 recorded at upload"):
        build_package(incident_id, target, db_settings, actor=ALICE)
    assert list(target.parent.iterdir()) == []  # no package, no partial file either
    assert not (db_settings.storage_dir / "derived").exists()  # refused before any clip was cut
    stored.unlink()
    with pytest.raises(InvalidInput, match="no longer in storage"):
        build_package(incident_id, target, db_settings, actor=ALICE)
    assert [e.action for e in trail_of(db_settings, incident_id)].count("package") == 0


def test_a_signing_key_that_is_not_one_is_refused(settings, clips, tmp_path):
    incident_id = _store(settings, clips["calm"])
    bad = tmp_path / "key.pem"
    bad.write_text("not a key")
    with pytest.raises(InvalidInput, match="EVIDENCE_SIGNING_KEY .* is not an unencrypted PEM private key"):
        build_package(incident_id, tmp_path / "c.zip", settings.model_copy(update={"evidence_signing_key": bad}),
                      actor=ALICE)  # fmt: skip


def test_the_cli_packages_and_verifies_with_exit_codes(settings, clips, tmp_path, monkeypatch, capsys):
    incident_id = _store(settings, clips["calm"])
    monkeypatch.setenv("STORAGE_DIR", str(settings.storage_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        target = tmp_path / "case.zip"
        assert cli_main(["package", str(incident_id), "-o", str(target)]) == 0
        assert capsys.readouterr().out.strip() == str(target)
        assert cli_main(["verify", str(target)]) == 0
        assert capsys.readouterr().out.strip().startswith("intact: ")
        members = _members(target)
        members["data/result.json"] = members["data/result.json"].replace(b"true", b"false")
        assert cli_main(["verify", str(_rewrite(target, tmp_path / "x.zip", members))]) == 4
        out = capsys.readouterr().out.splitlines()
        assert out[0].startswith("changed: data/result.json") and out[-1].startswith("NOT INTACT: 1 problem")
        assert cli_main(["verify", str(tmp_path / "absent.zip")]) == 2
        assert cli_main(["export", str(incident_id), "--format", "csv", "-o", str(tmp_path / "e.csv")]) == 0
    finally:
        get_settings.cache_clear()
    audited = [(e.action, (e.details or {}).get("what")) for e in trail_of(settings, incident_id)]
    assert audited[-2:] == [("package", None), ("export", "csv")]
    assert trail_of(settings, incident_id)[-1].actor.startswith("cli:")


@pytest.mark.parametrize("kernel_copy", [True, False], ids=["sendfile", "read-and-write"])
def test_members_copied_in_many_pieces_are_hashed_and_checksummed_exactly(
    settings, clips, tmp_path, monkeypatch, kernel_copy
):
    """Pieces that start anywhere within a page (a prime size), by `sendfile` or, where it cannot write
    to a file, by reading and writing: the ZIP's CRC-32 and the manifest's SHA-256 are the bytes'."""
    from core.evidence import package as package_module

    monkeypatch.setattr(package_module, "_PIECE_BYTES", 7919)
    if not kernel_copy:

        def no_sendfile(*_args):
            raise OSError(errno.EINVAL, "sendfile to a file is not supported here")

        monkeypatch.setattr(package_module.os, "sendfile", no_sendfile)
    incident_id = _store(settings, clips["collision"])
    made = build_package(incident_id, tmp_path / "case.zip", settings, actor=ALICE)
    with zipfile.ZipFile(made.path) as archive:
        assert archive.testzip() is None  # every member's CRC-32 matches its bytes
        listed = {
            entry["path"]: entry["sha256"] for entry in json.loads(archive.read("manifest.json"))["files"]
        }
        for name, sha256 in listed.items():
            assert hashlib.sha256(archive.read(name)).hexdigest() == sha256, name
    assert verify(made.path).intact
