"""Where the package data lives: the dbt project (with its seeds, the code lists) and the GX suites, found
with importlib.resources so that an installed wheel works as a checkout does (pyproject.toml installs
`dbt_project/` and `expectations/` as `njia.dbt_project` and `njia.expectations`)."""

from importlib.resources import files
from pathlib import Path


def _directory(package: str) -> Path:
    found = files(package)
    if not isinstance(found, Path):  # dbt and GX read real files
        raise RuntimeError(f"{package} is not a folder on disk ({found!r}): install Njia unpacked, not as a zip")
    return found


DBT_PROJECT_DIR = _directory("njia.dbt_project")
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
EXPECTATIONS_DIR = _directory("njia.expectations")
