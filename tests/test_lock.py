"""requirements.lock pins the whole environment and is up to date with requirements.txt
(checked without network: coursetools/lock.py stores requirements.txt's hash in the lock)."""
import shutil

import pytest

from coursetools import lock


def test_the_lock_is_up_to_date_with_requirements_txt():
    assert lock.problems() == [], "run `make lock`"


def test_the_lock_pins_every_package_with_the_cpu_build_of_torch():
    text = lock.LOCK.read_text()
    entries = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert all("==" in line or line == "-e ." for line in entries), entries
    locked = lock.pins(text)
    assert len(locked) > 100                                    # transitive, not just direct
    assert locked["torch"].endswith("+cpu")
    assert not [name for name in locked if name.startswith(("nvidia-", "triton"))]
    assert {"pip", "uv"} <= set(locked)                         # the installers are pinned too


def test_the_check_bites(tmp_path):
    requirements, locked = tmp_path / "requirements.txt", tmp_path / "requirements.lock"
    shutil.copy(lock.REQUIREMENTS, requirements)
    shutil.copy(lock.LOCK, locked)
    assert lock.problems(requirements, locked) == []
    numpy = lock.pins(requirements.read_text())["numpy"]
    requirements.write_text(requirements.read_text().replace(f"numpy=={numpy}", "numpy==1.0.0"))
    found = lock.problems(requirements, locked)
    assert any("changed" in p for p in found) and any("numpy==1.0.0" in p for p in found)
    assert lock.problems(requirements, tmp_path / "missing.lock") == ["missing.lock is missing"]


@pytest.mark.parametrize("name, normalised", [
    ("torch", "torch"), ("Torch", "torch"), ("scikit_learn", "scikit-learn"),
    ("Scikit.Learn", "scikit-learn"), ("zope__interface", "zope-interface"),
    ("jupyter-book", "jupyter-book")])
def test_names_compare_as_pip_compares_them(name, normalised):
    assert lock.normalise(name) == normalised
