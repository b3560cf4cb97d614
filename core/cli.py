"""`python -m core ...`: analyse, list, show, search, export, report, review and delete from a shell,
through the same `core.service` functions as the API and the dashboard.

Exit codes: 0 done; 2 bad input or unusable settings, DATABASE_URL included (one line on stderr);
3 analysis failed (one line naming the cause); 4 `verify` found a case package that is not intact;
130 / 143 stopped by SIGINT / SIGTERM (a running analysis is recorded FAILED "cancelled"). Every
command first runs `core.recovery.start_of_process`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from core import repository, service
from core.access import cli_principal
from core.concerns import parse_concern, readable_error
from core.config import Settings, get_settings, mask_url
from core.db import database
from core.engines import ENGINE_CHOICES
from core.errors import AnalysisFailed, Cancelled, DatabaseUnavailable, Forbidden, InvalidInput, QueueFull
from core.export import EXPORTERS
from core.i18n import LANGUAGES, text
from core.jobs import STOP_SIGNALS, dispatch, run_analysis, stopped_by_signals
from core.recovery import start_of_process
from core.schema import DOMAINS, AnalysisParams, ReviewStatus, Status

EXIT_OK, EXIT_BAD_INPUT, EXIT_FAILED = 0, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="Sigma: dangerous moments in video.")
    commands = parser.add_subparsers(dest="command", required=True)

    analyze = commands.add_parser("analyze", help="analyse a video synchronously")
    analyze.add_argument("video")
    analyze.add_argument("--json", action="store_true", help="print the result JSON on stdout")
    analyze.add_argument("--engine", choices=ENGINE_CHOICES)
    analyze.add_argument("--domain", choices=["auto", *DOMAINS], default="auto")
    analyze.add_argument("--window-sec", type=float)
    analyze.add_argument("--target-fps", type=float)
    analyze.add_argument("--frames-per-window", type=int)
    analyze.add_argument("--max-highlights", type=int)
    analyze.add_argument(
        "--concern",
        action="append",
        metavar='CODE="definition"',
        help='an extra event type for the model to look for, e.g. NO_GLOVES="a person at the press without '
        'gloves" (repeatable; replaces LLM_CONCERNS for this analysis)',
    )
    analyze.add_argument(
        "--context",
        metavar='"text"',
        help="what the camera shows and what is normal there (replaces LLM_SITE_CONTEXT for this analysis)",
    )
    analyze.add_argument("--quiet", action="store_true", help="no progress on stderr")
    analyze.add_argument(
        "--detach",
        action="store_true",
        help="hand the analysis to the queue's workers (JOB_BACKEND=queue), print its incident id, do not wait",
    )

    listing = commands.add_parser("list", help="list incidents")
    listing.add_argument("--json", action="store_true")

    show = commands.add_parser("show", help="show one incident")
    show.add_argument("incident_id", type=int)
    show.add_argument("--json", action="store_true")

    commands.add_parser("migrate", help="bring the database schema to the newest revision")
    commands.add_parser(
        "worker", help="run a queue worker: MAX_CONCURRENT_JOBS analyses at once from JOB_QUEUE on REDIS_URL"
    )

    search = commands.add_parser("search", help="search stored windows and events (Russian or English)")
    search.add_argument("query")
    search.add_argument("--incident", type=int, help="only this incident")
    search.add_argument("--limit", type=int, default=50)
    search.add_argument("--json", action="store_true")

    report = commands.add_parser("report", help="write the DOCX report of an incident (no re-analysis)")
    report.add_argument("incident_id", type=int)
    report.add_argument("-o", "--output", help="the .docx to write (default: sigma-ID-NAME.docx here)")
    report.add_argument("--lang", choices=LANGUAGES, default="en")

    export = commands.add_parser("export", help="export an incident's stored results")
    export.add_argument("incident_id", type=int)
    export.add_argument("--format", choices=list(EXPORTERS), default="json")
    export.add_argument("-o", "--output", help="file to write (default: stdout)")

    delete = commands.add_parser(
        "delete", help="delete an incident (with its re-runs) and its video when no other run uses it"
    )
    delete.add_argument("incident_id", type=int)
    delete.add_argument("--reason", help="why (kept in the audit trail)")
    _evidence_commands(commands)
    return parser


# --- evidence: clips, case packages, audit trail, users, legal hold, case details -------------------

EXIT_TAMPERED = 4
_FROM_KEYFRAME = (
    "start each clip at the keyframe before its pre-roll: the original's frames only, never re-encoded "
    "(CLIP_CUT=keyframe)"
)


def _evidence_commands(commands) -> None:
    clip = commands.add_parser("clip", help="cut an event's clip (MP4 with pre- and post-roll)")
    clip.add_argument("incident_id", type=int)
    which = clip.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--event", type=int, help="the event's number in the incident (1 = earliest, as in the report)"
    )
    which.add_argument("--all", action="store_true", help="a clip for every event (-o names a folder)")
    clip.add_argument("-o", "--output", required=True, help="the .mp4 to write (with --all: a folder)")
    clip.add_argument("--pre", type=float, help="seconds before the event (default CLIP_PRE_ROLL_SEC, 3)")
    clip.add_argument("--post", type=float, help="seconds after the event (default CLIP_POST_ROLL_SEC, 3)")
    clip.add_argument("--from-keyframe", action="store_true", help=_FROM_KEYFRAME)

    package = commands.add_parser("package", help="write the case package (ZIP with manifest) of an incident")
    package.add_argument("incident_id", type=int)
    package.add_argument("-o", "--output", required=True, help="the .zip to write")
    package.add_argument("--lang", choices=LANGUAGES, default="en", help="language of the report inside")
    package.add_argument("--pre", type=float, help="clip pre-roll in seconds (default CLIP_PRE_ROLL_SEC)")
    package.add_argument("--post", type=float, help="clip post-roll in seconds (default CLIP_POST_ROLL_SEC)")
    package.add_argument("--from-keyframe", action="store_true", help=_FROM_KEYFRAME)

    verify = commands.add_parser("verify", help="recheck a case package (exit 0 intact, 4 not)")
    verify.add_argument("package")
    verify.add_argument("--public-key", help="PEM Ed25519 public key the signature must verify with")
    verify.add_argument("--json", action="store_true")

    audit = commands.add_parser("audit", help="show the audit trail (who did what, when)")
    audit.add_argument("--incident", type=int, help="only what concerns this incident's video")
    audit.add_argument("--json", action="store_true")

    users = commands.add_parser("users", help="manage the named users of APP_USERS")
    actions = users.add_subparsers(dest="users_command", required=True)
    add = actions.add_parser("add", help="add a user (the password is asked for, or read from stdin)")
    add.add_argument("name")
    add.add_argument("--role", choices=["analyst", "viewer"], required=True)
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument("--replace", action="store_true", help="change an existing user's password and role")
    token = actions.add_parser(
        "add-token", help="add an integration with its own API token (printed once, stored as a hash)"
    )
    token.add_argument("name")
    token.add_argument("--role", choices=["analyst", "viewer"], required=True)
    token.add_argument("--replace", action="store_true", help="give an existing integration a new token")
    remove = actions.add_parser("remove", help="remove a user or an integration (its token stops working)")
    remove.add_argument("name")
    listing = actions.add_parser("list", help="list users (names, roles; never hashes)")
    listing.add_argument("--json", action="store_true")

    hold = commands.add_parser("hold", help="put an incident on legal hold, or lift it (--lift)")
    hold.add_argument("incident_id", type=int)
    hold.add_argument("--reason", help="why (required to place a hold)")
    hold.add_argument("--lift", action="store_true")

    review = commands.add_parser(
        "review", help="confirm or dismiss an event, with a note (who and when kept)"
    )
    review.add_argument("incident_id", type=int)
    review.add_argument(
        "--event", type=int, required=True, help="the event's number in the incident (1 = earliest)"
    )
    review.add_argument("--verdict", choices=[*ReviewStatus, "none"], required=True)
    review.add_argument("--note", help='the analyst\'s note (default: the note it has; "" clears it)')

    case = commands.add_parser(
        "case", help="set an incident's case details (shown on the report's first page)"
    )
    case.add_argument("incident_id", type=int)
    case.add_argument("--number", help="case number")
    case.add_argument("--investigator")
    case.add_argument("--note")


def _clip(args: argparse.Namespace, settings: Settings) -> int:
    import shutil
    from pathlib import Path

    from core.evidence.clips import event_clips

    numbers = None if args.all else [args.event]
    mode = "keyframe" if args.from_keyframe else None
    clips = event_clips(
        settings, args.incident_id, numbers, pre_roll=args.pre, post_roll=args.post, mode=mode,
        actor=cli_principal(),
    )  # fmt: skip
    output = Path(args.output)
    if args.all:
        output.mkdir(parents=True, exist_ok=True)
    for clip in clips:
        target = output / clip.file_name if args.all else output
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        shutil.copyfile(clip.cut.path, partial)
        partial.replace(target)
        print(
            f"{target}  event {clip.number} {clip.event.event_type} {clip.event.highlight}: "
            f"{clip.cut.start:.2f}-{clip.cut.end:.2f} s, {clip.cut.frames} frames, {clip.cut.method}"
        )
    if not clips:
        print(f"incident {args.incident_id} has no events: no clips", file=sys.stderr)
    return EXIT_OK


def _package(args: argparse.Namespace, settings: Settings) -> int:
    from core.evidence.package import build_package

    made = build_package(
        args.incident_id, args.output, settings, actor=cli_principal(), lang=args.lang,
        pre_roll=args.pre, post_roll=args.post, mode="keyframe" if args.from_keyframe else None,
        progress=_progress_to_stderr,
    )  # fmt: skip
    print(made.path)
    print(
        f"{len(made.files)} files, manifest SHA-256 {made.manifest_sha256}"
        + (", signed" if made.signed else ", not signed (EVIDENCE_SIGNING_KEY unset)"),
        file=sys.stderr,
    )
    return EXIT_OK


def _verify(args: argparse.Namespace, settings: Settings) -> int:
    from core.evidence.package import verify

    found = verify(args.package, public_key=args.public_key)
    if args.json:
        print(json.dumps(found.model_dump(), ensure_ascii=False, indent=2))
    else:
        for problem in found.problems:
            print(problem)
        for note in found.notes:
            print(f"note: {note}", file=sys.stderr)
        if found.intact:
            signed = ", signature verified" if found.signed else ""
            print(f"intact: {found.checked} files match the manifest{signed}")
        else:
            print(f"NOT INTACT: {len(found.problems)} problem(s) in {found.package}")
    return EXIT_OK if found.intact else EXIT_TAMPERED


def _audit(args: argparse.Namespace, settings: Settings) -> int:
    from core.evidence.audit import trail_of

    entries = trail_of(settings, args.incident)
    if args.json:
        print(json.dumps([e.model_dump(mode="json") for e in entries], ensure_ascii=False, indent=2))
        return EXIT_OK
    for e in entries:
        incident = f"#{e.incident_id}" if e.incident_id is not None else "-"
        print(
            f"{e.at:%Y-%m-%d %H:%M:%S} UTC  {e.actor:<20} {e.role:<8} {e.action:<14} {incident:>6}  "
            f"{e.target}  {e.details_text()}".rstrip()
        )
    if not entries:
        print("the audit trail has no entries" + (f" for incident {args.incident}" if args.incident else ""),
              file=sys.stderr)  # fmt: skip
    return EXIT_OK


def _users(args: argparse.Namespace, settings: Settings) -> int:
    from core import users
    from core.evidence.audit import Action, record_now

    if not settings.app_users:
        raise InvalidInput(
            "APP_USERS is not set: name the users file first (e.g. APP_USERS=./data/users.json)"
        )
    path = settings.app_users
    if args.users_command == "list":
        listed = users.list_users(path)
        if args.json:
            print(json.dumps([u.model_dump() for u in listed], indent=2))
        for user in [] if args.json else listed:
            print(f"{user.name:<24} {user.role:<8} {user.kind:<8} added {user.added_at}")
        return EXIT_OK
    if args.users_command == "remove":
        users.remove_user(path, args.name)
        record_now(settings, cli_principal(), Action.REMOVE_USER, target=f"user {args.name}")
        print(f"removed {args.name}")
        return EXIT_OK
    users.validate_name(args.name)
    if args.name == settings.api_token_user:
        raise InvalidInput(f"{args.name!r} is API_TOKEN's service user (API_TOKEN_USER): choose another name")
    if args.users_command == "add-token":
        user, token = users.add_token(path, args.name, args.role, replace=args.replace)
    else:
        password = _read_password(args.password_stdin)
        user, token = users.add_user(path, args.name, password, args.role, replace=args.replace), None
    record_now(
        settings, cli_principal(), Action.ADD_USER, target=f"user {user.name}",
        details={"role": user.role, "kind": user.kind, "replaced": args.replace},
    )  # fmt: skip
    print(f"{'changed' if args.replace else 'added'} {user.name} ({user.role})")
    if token:
        print(f"token (shown this once; send it as 'Authorization: Bearer <token>'):\n{token}")
    return EXIT_OK


def _read_password(from_stdin: bool) -> str:
    import getpass

    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise InvalidInput("the two passwords differ")
    return first


def _hold(args: argparse.Namespace, settings: Settings) -> int:
    if args.lift:
        service.lift_hold(args.incident_id, settings, actor=cli_principal(), reason=args.reason)
        print(f"incident {args.incident_id}: legal hold lifted")
    else:
        service.set_hold(args.incident_id, args.reason or "", settings, actor=cli_principal())
        print(f"incident {args.incident_id}: on legal hold ({args.reason})")
    return EXIT_OK


def _review(args: argparse.Namespace, settings: Settings) -> int:
    events = service.incident_events(args.incident_id, settings)
    if not 1 <= args.event <= len(events):
        raise InvalidInput(f"incident {args.incident_id} has no event {args.event} (it has {len(events)})")
    event = events[args.event - 1]
    reviewed = service.review(
        event.id, settings, status=None if args.verdict == "none" else ReviewStatus(args.verdict),
        note=event.review_note if args.note is None else args.note, actor=cli_principal(),
    )  # fmt: skip
    print(reviewed.model_dump_json(indent=2))
    return EXIT_OK


def _case(args: argparse.Namespace, settings: Settings) -> int:
    incident = service.incident_record(args.incident_id, settings)
    current = (incident.case_number, incident.investigator, incident.case_note)
    given = (args.number, args.investigator, args.note)
    number, investigator, note = (new if new is not None else old for new, old in zip(given, current))
    service.set_case(
        args.incident_id, settings, case_number=number, investigator=investigator, note=note,
        actor=cli_principal(),
    )  # fmt: skip
    print(json.dumps({"case_number": number, "investigator": investigator, "note": note}, ensure_ascii=False))
    return EXIT_OK


def _progress_to_stderr(fraction: float, stage: str) -> None:
    print(f"[{fraction * 100:5.1f}%] {stage}", file=sys.stderr, flush=True)


def analysis_params(args: argparse.Namespace, settings: Settings) -> AnalysisParams:
    """The parameters `analyze` asks for, checked before anything is stored: `InvalidInput` says what
    is wrong in one line (a malformed or built-in concern code, a context too long, a bad number)."""
    try:
        concerns = [parse_concern(text) for text in args.concern] if args.concern is not None else None
        return AnalysisParams.from_settings(
            settings,
            engine=args.engine,
            domain=args.domain,
            window_sec=args.window_sec,
            target_fps=args.target_fps,
            frames_per_window=args.frames_per_window,
            max_highlights=args.max_highlights,
            concerns=concerns,
            site_context=args.context,
        )
    except ValueError as error:  # pydantic's ValidationError is a ValueError too
        raise InvalidInput(readable_error(error)) from None


def _analyze(args: argparse.Namespace, settings: Settings) -> int:
    params = analysis_params(args, settings)
    if args.detach and settings.job_backend != "queue":
        raise InvalidInput("--detach needs JOB_BACKEND=queue (a worker must run the analysis)")
    if args.detach:  # admitted before storing, and again with its row: a full queue leaves nothing
        incident_id = service.register_video(args.video, settings, params, admit=True, actor=cli_principal())
        dispatch(incident_id, settings)
        print(json.dumps({"incident_id": incident_id, "status": "QUEUED"}) if args.json else incident_id)
        return EXIT_OK
    with stopped_by_signals():
        incident_id = service.register_video(args.video, settings, params, actor=cli_principal())
        result = run_analysis(incident_id, settings, echo=None if args.quiet else _progress_to_stderr)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(f"incident {incident_id}: {len(result['events'])} event(s)")
        for event in result["events"]:
            print(f"  {event['highlight']:>15}  {event['event_type']:<18} {event['description']}")
    camera = service.incident_detail(incident_id, settings).moving_camera
    if camera is not None:  # on stderr, so the seed JSON on stdout stays as the specification has it
        words = text(
            settings.analysis_language, "summary.local_camera", share=camera.share, withheld=camera.withheld
        )
        print(f"warning: {words}", file=sys.stderr)
    return EXIT_OK


def _list(args: argparse.Namespace, settings: Settings) -> int:
    rows = [item.model_dump(mode="json") for item in service.incident_list(settings, limit=None).items]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            print(
                f"{row['incident_id']:>5}  {row['status']:<10} {row['events']:>3} event(s)  {row['original_name']}"
            )
    return EXIT_OK


def _show(args: argparse.Namespace, settings: Settings) -> int:
    summary = service.incident_summary(args.incident_id, settings)
    result = service.incident_detail(args.incident_id, settings).result if args.json else None
    shown = result if result is not None else summary
    print(json.dumps(shown.model_dump(mode="json"), ensure_ascii=False, indent=2))
    if summary.status == Status.FAILED:
        return EXIT_FAILED
    return EXIT_OK


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    database(settings)  # migrated by start_of_process; here for clarity
    print(f"database at {mask_url(settings.resolved_database_url)} is up to date", file=sys.stderr)
    return EXIT_OK


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from core.worker import worker_command

    database(settings)
    argv, env = worker_command(settings)
    os.execvpe(argv[0], argv, env)  # dramatiq's own CLI from here on (signals, restarts, logging)


def _search(args: argparse.Namespace, settings: Settings) -> int:
    found = service.search_incidents(args.query, settings, incident_id=args.incident, limit=args.limit)
    if args.json:
        print(json.dumps([hit.model_dump() for hit in found.hits], ensure_ascii=False, indent=2))
        return EXIT_OK
    if found.event_types:
        print(f"event types named: {', '.join(found.event_types)}", file=sys.stderr)
    if not found.matched_all:
        print("no result has every word; showing results with some of them", file=sys.stderr)
    if not found.hits:
        print("no matches", file=sys.stderr)
    mark = ("\033[1;33m", "\033[0m") if sys.stdout.isatty() else ("[", "]")
    for hit in found.hits:
        what = f"{hit.event_type}: " if hit.kind == "event" else ""
        print(
            f"{hit.score:.3f}  #{hit.incident_id:<5} {hit.original_name[:28]:<28} {hit.kind:<6} "
            f"{hit.start_time:8.2f}-{hit.end_time:<8.2f} {what}{hit.marked(*mark)}"
        )
    return EXIT_OK


def _output_path(output: str | None, download_name: str) -> Path:
    """Where `-o` says to write: the file it names, or inside the folder it names (or here, without
    `-o`) under the download name the services give (the dashboard's and the API's)."""
    target = Path(output) if output else Path(".")
    return target if output and not target.is_dir() else target / download_name


def _write_atomically(target: Path, data: bytes) -> None:
    """Write through a temporary file beside `target` (its folder made if missing), renamed into
    place; nothing is left on failure, which is one line."""
    partial = target.with_name(f".{target.name}.partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(data)
        partial.replace(target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {target}: {error.strerror or error}") from None


def _report(args: argparse.Namespace, settings: Settings) -> int:
    content, name = service.report_docx(args.incident_id, settings, lang=args.lang)
    target = _output_path(args.output, name)
    _write_atomically(target, content)
    print(target)
    _audit_read(settings, "report", args.incident_id, {"what": f"docx ({args.lang})", "file": str(target)})
    return EXIT_OK


def _audit_read(settings: Settings, action: str, incident_id: int, details: dict) -> None:
    """A report or export written from the command line, in the audit trail (as `cli:<login>`)."""
    from core.evidence.audit import Action, record_now

    record_now(settings, cli_principal(), Action(action), incident_id=incident_id, details=details)


def _export(args: argparse.Namespace, settings: Settings) -> int:
    content, name = service.export_incident(args.incident_id, args.format, settings)
    content = content if content.endswith("\n") else content + "\n"  # as `analyze --json` printed it
    written = "stdout"
    if args.output:
        target = _output_path(args.output, name)
        _write_atomically(target, content.encode("utf-8"))
        print(target)
        written = str(target)
    else:
        sys.stdout.write(content)
    _audit_read(settings, "export", args.incident_id, {"what": args.format, "file": written})
    return EXIT_OK


def _delete(args: argparse.Namespace, settings: Settings) -> int:
    if not service.delete(args.incident_id, settings, actor=cli_principal(), reason=args.reason):
        raise InvalidInput(f"no incident {args.incident_id}")
    print(f"incident {args.incident_id}: deleted")
    return EXIT_OK


_COMMANDS = {
    "analyze": _analyze,
    "list": _list,
    "show": _show,
    "migrate": _migrate,
    "worker": _worker,
    "search": _search,
    "report": _report,
    "export": _export,
    "delete": _delete,
    "clip": _clip,
    "package": _package,
    "verify": _verify,
    "audit": _audit,
    "users": _users,
    "hold": _hold,
    "review": _review,
    "case": _case,
}


def _check_ids(args: argparse.Namespace) -> None:
    """An id no incident can have (0, negative, beyond the database's integers) is "no incident"."""
    for name in ("incident_id", "incident"):
        value = getattr(args, name, None)
        if value is not None and not repository.valid_id(value):
            raise InvalidInput(f"no incident {value}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = get_settings()
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors())
        print(f"error: invalid configuration: {problems}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        _check_ids(args)
        if args.command != "verify":  # verify reads a package alone: it may run where no database is
            start_of_process(settings)
        return _COMMANDS[args.command](args, settings)
    except (InvalidInput, QueueFull, DatabaseUnavailable, Forbidden) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except AnalysisFailed as error:
        print(f"analysis failed: {error}", file=sys.stderr)
        return EXIT_FAILED
    except SQLAlchemyError as error:  # the database failed mid-command: one line, never a traceback
        reason = settings.redact(str(getattr(error, "orig", None) or error).strip().splitlines()[0])
        print(f"error: the database failed: {reason}", file=sys.stderr)
        return EXIT_FAILED
    except Cancelled as stop:
        print(f"cancelled ({stop.signal_name})", file=sys.stderr)
        return 128 + STOP_SIGNALS[stop.signal_name]
    except KeyboardInterrupt:
        print("cancelled (SIGINT)", file=sys.stderr)
        return 130
