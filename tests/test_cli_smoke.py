import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, storage: Path, env_extra=None):
    env = {**os.environ, "STORAGE_DIR": str(storage), "ENGINE": "local", "LLM_BASE_URL": ""}
    for name in ("DATABASE_URL", "DB_URL", "MAX_UPLOAD_MB"):  # the machine's own settings stay out
        env.pop(name, None)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_analyze_prints_seed_json(clips, tmp_path):
    done = run_cli("analyze", str(clips["collision"]), "--json", storage=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == {"has_event", "inferred_domain", "events", "incident_id"}
    assert result["has_event"] is True
    assert "Traceback" not in done.stderr


def test_bad_input_exit_2(tmp_path):
    text_file = tmp_path / "notes.mp4"
    text_file.write_text("hello")
    done = run_cli("analyze", str(text_file), storage=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["error: this is a text file, not a video"]
