"""Run Python code in a fresh interpreter in which some top-level packages cannot be imported."""
import subprocess
import sys

_PRELUDE = """\
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {blocked!r}:
            raise ImportError('No module named ' + repr(name) + ' (blocked)')
sys.meta_path.insert(0, _Block())
"""


def run_without(blocked, body: str, *args, cwd=None, env=None) -> subprocess.CompletedProcess:
    """``python -c PRELUDE+body *args`` with the packages named in ``blocked`` unimportable."""
    script = _PRELUDE.format(blocked=tuple(blocked)) + body
    return subprocess.run([sys.executable, "-c", script, *args], cwd=cwd, env=env, capture_output=True, text=True)
