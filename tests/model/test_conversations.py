"""Conversation tests: the trained model must predict every intent and action of tests/test_stories.yml."""

from __future__ import annotations

import subprocess

from tests.helpers.server import MODEL, ROOT


def test_conversation_stories_have_no_prediction_error(tmp_path) -> None:
    result = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "rasa"),
            "test",
            "core",
            "--model",
            str(MODEL),
            "--stories",
            str(ROOT / "tests" / "model" / "test_stories.yml"),
            "--fail-on-prediction-errors",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text(encoding="utf-8") if failed.exists() else ""
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:] + details
    assert "None of the test stories failed" in details, details
