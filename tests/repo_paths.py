"""Where things are in the repository checkout the tests run from (never in an installed package: the
package's own data is found through njia/paths.py)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DAGS_DIR = REPO_ROOT / "dags"
