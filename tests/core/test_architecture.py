"""core/ stays pure NumPy: it never imports Qt, pyqtgraph or the app."""
import subprocess
import sys
from pathlib import Path

from blocked_imports import run_without

ROOT = Path(__file__).resolve().parents[2]


def test_core_imports_with_qt_and_the_app_blocked():
    body = ("import core, pkgutil, importlib\n"
            "for m in pkgutil.iter_modules(core.__path__):\n"
            "    importlib.import_module('core.' + m.name)\n")
    result = run_without(("PySide6", "shiboken6", "pyqtgraph", "playground"), body, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_import_linter_contract_holds():
    result = subprocess.run([sys.executable, "-m", "importlinter.cli", "--config", str(ROOT / "pyproject.toml")],
                            cwd=ROOT, capture_output=True, text=True)
    if "No module named" in result.stderr:  # the CLI module moved between versions
        result = subprocess.run(["lint-imports"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
