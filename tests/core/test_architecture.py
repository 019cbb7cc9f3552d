"""core/ stays pure NumPy: it never imports Qt, pyqtgraph or the app."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_core_imports_with_qt_and_the_app_blocked():
    blocker = ("import sys\n"
               "class Block:\n"
               "    def find_spec(self, name, path=None, target=None):\n"
               "        if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'playground', 'shiboken6'):\n"
               "            raise ImportError('core imported ' + name)\n"
               "sys.meta_path.insert(0, Block())\n"
               "import core, core.spec, core.gradcheck, core.datasets\n"
               "import pkgutil, importlib\n"
               "for m in pkgutil.iter_modules(core.__path__):\n"
               "    importlib.import_module('core.' + m.name)\n")
    result = subprocess.run([sys.executable, "-c", blocker], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_import_linter_contract_holds():
    result = subprocess.run([sys.executable, "-m", "importlinter.cli", "--config", str(ROOT / "pyproject.toml")],
                            cwd=ROOT, capture_output=True, text=True)
    if "No module named" in result.stderr:  # the CLI module moved between versions
        result = subprocess.run(["lint-imports"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
