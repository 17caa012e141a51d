"""A real drill through the CLI with planted secrets: no report, log, JUnit, HTML or evidence
file holds one, and `drillbook evidence verify` holds the bundles it wrote to account."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.integration.engine_helpers import cli, write

pytestmark = pytest.mark.slow

API_KEY = "canary-sk-4f8e2d1c9b"
SERVICE_TOKEN = "canary-token-77aa31"

SCENARIO = f"""
name: canary-drill
services:
  db: {{kind: postgres}}
  app:
    kind: command
    command:
      - bash
      - -c
      - "echo starting with $SERVICE_TOKEN; echo SERVICE_TOKEN=$SERVICE_TOKEN; exec sleep 600"
    env: {{SERVICE_TOKEN: "{SERVICE_TOKEN}"}}
env:
  API_KEY: "{API_KEY}"
  CANARY_OUT: "OUT_DIR"
seed:
  - {{kind: sql, service: db, sql: "create table t (id int); insert into t values (1)"}}
  - kind: run
    id: leak
    run: |
      echo "the key is $API_KEY"
      echo "$API_KEY" >&2
      echo "pw $PGPASSWORD url $DATABASE_URL"
      printf '%s' "$PGPASSWORD" > "$CANARY_OUT/pgpassword"
steady_state:
  - {{kind: sql, service: db, query: "select count(*) from t", expect: ">= 1"}}
fault:
  - {{kind: db.drop_table, service: db, table: t}}
recovery:
  - kind: run
    run: |
      echo "restoring with key $API_KEY and $PGPASSWORD"
      psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -c "create table t (id int); insert into t values (1)"
timeouts: {{recover: 30s}}
criteria: {{max_time_to_recover: 30s}}
"""


@pytest.fixture(scope="module")
def drill(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("canary")
    out = root / "out"
    out.mkdir()
    write(root, "drillbook.toml", "")
    write(root, "canary.yaml", SCENARIO.replace("OUT_DIR", str(out)))
    reports = root / "reports"
    done = cli(
        "run", "canary.yaml", "--reports-dir", str(reports),
        "--json", str(reports / "suite.json"), "--junit", str(reports / "junit.xml"),
        "--html", str(reports / "suite.html"), cwd=root,
    )
    return root, done


def _canaries(root: Path) -> list[str]:
    password = (root / "out" / "pgpassword").read_text()
    assert len(password) >= 8, "the drill did not capture the database password"
    secrets = [API_KEY, SERVICE_TOKEN, password]
    return secrets + [quote(s, safe="") for s in secrets]


def test_the_canary_drill_ran_and_wrote_every_report(
    drill: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    root, done = drill
    assert done.returncode == 0, done.stdout + done.stderr
    reports = root / "reports"
    (run,) = [p for p in reports.iterdir() if p.is_dir()]
    for name in ("result.json", "report.html", "evidence/manifest.json", "logs/app.log"):
        assert (run / name).is_file(), name
    for name in ("suite.json", "junit.xml", "suite.html"):
        assert (reports / name).is_file(), name
    suite = ET.parse(reports / "junit.xml").getroot()
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    assert "the key is ***" in (reports / "junit.xml").read_text()


def test_no_planted_secret_appears_in_any_file_under_the_reports_folder(
    drill: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    root, _ = drill
    canaries = _canaries(root)
    files = [p for p in (root / "reports").rglob("*") if p.is_file()]
    assert len(files) >= 10
    for path in files:
        data = path.read_bytes()
        for secret in canaries:
            assert secret.encode() not in data, f"{secret!r} leaked into {path}"


def test_no_planted_secret_appears_in_the_console_output(
    drill: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    root, done = drill
    for secret in _canaries(root):
        assert secret not in done.stdout + done.stderr


def test_evidence_verify_passes_then_catches_a_changed_byte(
    drill: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    root, _ = drill
    reports = tmp_path / "reports"
    shutil.copytree(root / "reports", reports)
    ok = cli("evidence", "verify", str(reports), cwd=root)
    assert ok.returncode == 0, ok.stdout + ok.stderr

    (journal,) = reports.glob("*/evidence/journal.json")
    journal.write_text(journal.read_text().replace('"ok": true', '"ok": false', 1))
    bad = cli("evidence", "verify", str(reports), cwd=root)
    assert bad.returncode == 1
    assert "journal.json was changed" in bad.stdout
