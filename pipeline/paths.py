"""Where the project's own files live (independent of the working directory)."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
DATA_DIR = PACKAGE_DIR / "data"
DBT_DIR = PROJECT_DIR / "dbt_project"
SEEDS_DIR = DBT_DIR / "seeds"
TEMPLATES_DIR = PROJECT_DIR / "report_templates"
