"""The GitHub Pages workflow builds the book with the README's command and publishes what that
command builds; the launch buttons and repository links come from `repository.url` alone."""
import copy
import pathlib
import re
import urllib.parse

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "deploy.yml"


def _load(path: pathlib.Path) -> dict:
    return yaml.safe_load(path.read_text())


def readme_build_command() -> str:
    """The README's command that builds the website (from its shell code blocks)."""
    blocks = re.findall(r"```(?:bash|sh|console)?\n(.*?)```", (ROOT / "README.md").read_text(),
                        re.DOTALL)
    commands = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    builds = [c for c in commands if re.fullmatch(r"make book", c)]
    assert builds, "the README names no `make book` command"
    return builds[0]


def run_lines(job: dict) -> list[str]:
    lines = []
    for step in job.get("steps", []):
        lines += [line.split("#")[0].strip() for line in step.get("run", "").splitlines()]
    return [line for line in lines if line]


def problems(workflow: dict, command: str) -> list[str]:
    """What keeps ``workflow`` from building with ``command`` and publishing to Pages."""
    found = []
    triggers = workflow.get("on", workflow.get(True)) or {}  # YAML 1.1 reads `on:` as True
    if "main" not in (triggers.get("push") or {}).get("branches", []):
        found.append("not run on a push to main")
    permissions = workflow.get("permissions", {})
    if permissions.get("pages") != "write" or permissions.get("id-token") != "write":
        found.append("lacks pages: write and id-token: write")
    jobs = workflow.get("jobs", {})
    build = jobs.get("build", {})
    lines = run_lines(build)
    if command not in lines:
        found.append(f"the build job never runs `{command}` (runs {lines})")
    elif any("jupyter-book build" in line for line in lines):
        found.append("the build job builds the book some other way too")
    uploads = [s for s in build.get("steps", []) if "upload-pages-artifact" in s.get("uses", "")]
    if [s.get("with", {}).get("path") for s in uploads] != ["_build/html"]:
        found.append("does not upload _build/html (what `make book` builds) to Pages")
    deploy = jobs.get("deploy", {})
    if deploy.get("needs") != "build" or not any(
            "actions/deploy-pages" in s.get("uses", "") for s in deploy.get("steps", [])):
        found.append("no deploy job running actions/deploy-pages after the build")
    return found


def test_the_workflow_builds_with_the_readme_command_and_deploys():
    assert problems(_load(WORKFLOW), readme_build_command()) == []


def test_the_checks_catch_a_workflow_that_builds_another_way():
    workflow = _load(WORKFLOW)
    other = copy.deepcopy(workflow)
    for step in other["jobs"]["build"]["steps"]:
        if step.get("run", "").strip() == "make book":
            step["run"] = "jupyter-book build ."
    assert any("never runs `make book`" in p for p in problems(other, "make book"))
    unpublished = copy.deepcopy(workflow)
    unpublished["jobs"]["build"]["steps"] = [
        s for s in unpublished["jobs"]["build"]["steps"] if "upload-pages" not in s.get("uses", "")]
    assert any("_build/html" in p for p in problems(unpublished, "make book"))


def test_the_book_target_builds_into_what_is_published():
    makefile = (ROOT / "Makefile").read_text()
    book = re.search(r"^book:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE).group(1)
    assert "jupyter-book build ." in book and "--builder html" in book
    for target in re.findall(r"\bmake ([\w-]+(?: [\w-]+)*)", WORKFLOW.read_text()):
        for name in target.split():
            assert re.search(rf"^{re.escape(name)}:", makefile, re.MULTILINE), f"no make target {name}"


def test_the_workflow_does_not_name_the_repository():
    """Forks publish their own copy: the repository is named in _config.yml only."""
    url = _load(ROOT / "_config.yml")["repository"]["url"]
    owner_repo = urllib.parse.urlsplit(url).path.strip("/")
    assert owner_repo.count("/") == 1, f"repository.url should be https://github.com/OWNER/REPO: {url}"
    assert owner_repo not in WORKFLOW.read_text()


@pytest.mark.site
@pytest.mark.slow
def test_launch_buttons_come_from_repository_url(built_site):
    config = _load(ROOT / "_config.yml")
    owner_repo = urllib.parse.urlsplit(config["repository"]["url"]).path.strip("/")
    branch = config["repository"].get("branch", "main")
    chapters = sorted((built_site / "chapters").glob("*.html"))
    assert chapters, "no chapter pages were built"
    for page in chapters:
        links = set(re.findall(r'href="(https://[^"]+)"', page.read_text()))
        binder = [u for u in links if "mybinder.org" in u]
        colab = [u for u in links if "colab.research.google.com" in u]
        assert binder and colab, f"{page.name}: no Binder/Colab launch button"
        for url in binder:
            assert f"/v2/gh/{owner_repo}/{branch}?" in url, url
        for url in colab:
            assert f"/github/{owner_repo}/blob/{branch}/" in url, url
        for url in (u for u in links if urllib.parse.urlsplit(u).netloc == "github.com"):
            assert url.startswith(f"https://github.com/{owner_repo}"), url
        notebook = f"chapters/{page.stem}.ipynb"
        assert any(url.endswith(notebook) for url in binder + colab), f"{page.name}: {links}"
