"""The GitHub workflows, loaded as YAML and checked by value: the test workflow runs `.ci/run`
(the README's two commands) on every push and pull request; the Pages workflow runs only after
it passed on main, builds the book with the README's command and publishes what that command
builds; both key the executed chapters by everything they run (the execution key that
coursetools.execute computes, and the chapters' code); the launch buttons and repository links come from `repository.url` alone."""
import copy
import pathlib
import re
import urllib.parse

import pytest
import yaml
from course import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "deploy.yml"
TEST_WORKFLOW = ROOT / ".github" / "workflows" / "test.yml"


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
    triggers = _triggers(workflow)
    after = triggers.get("workflow_run") or {}
    if set(triggers) != {"workflow_run"} or after.get("workflows") != ["test"] or \
            after.get("types") != ["completed"] or after.get("branches") != ["main"]:
        found.append(f"not run only after the test workflow on main (triggers: {triggers})")
    permissions = workflow.get("permissions", {})
    if permissions.get("pages") != "write" or permissions.get("id-token") != "write":
        found.append("lacks pages: write and id-token: write")
    jobs = workflow.get("jobs", {})
    build = jobs.get("build", {})
    condition = build.get("if", "")
    if "github.event.workflow_run.conclusion == 'success'" not in condition:
        found.append("the build job does not require the test workflow to have passed")
    checkout = [s for s in build.get("steps", []) if s.get("uses", "").startswith("actions/checkout")]
    if not checkout or checkout[0].get("with", {}).get("ref") != \
            "${{ github.event.workflow_run.head_sha }}":
        found.append("the build job does not check out the commit the tests passed on")
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


def _triggers(workflow: dict) -> dict:
    return workflow.get("on", workflow.get(True)) or {}  # YAML 1.1 reads `on:` as True


def test_the_workflow_builds_with_the_readme_command_and_deploys():
    assert problems(_load(WORKFLOW), readme_build_command()) == []


def test_the_checks_catch_a_workflow_that_builds_another_way():
    workflow = _load(WORKFLOW)
    other = copy.deepcopy(workflow)
    for step in other["jobs"]["build"]["steps"]:
        if step.get("run", "").strip() == "make book":
            step["run"] = "jupyter-book build ."
    assert any("never runs `make book`" in p for p in problems(other, "make book"))
    untested = copy.deepcopy(workflow)
    untested[True if True in untested else "on"] = {"push": {"branches": ["main"]}}
    del untested["jobs"]["build"]["if"]
    found = problems(untested, "make book")
    assert any("after the test workflow" in p for p in found)
    assert any("to have passed" in p for p in found)
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


def test_the_test_workflow_runs_ci_on_every_push_and_pull_request():
    workflow = _load(TEST_WORKFLOW)
    triggers = _triggers(workflow)
    assert "push" in triggers and "pull_request" in triggers
    assert not (triggers["push"] or {}).get("branches"), "every branch, not only some"
    assert workflow["name"] == "test"                     # the name deploy.yml waits for
    (job,) = workflow["jobs"].values()
    assert job["runs-on"].startswith("ubuntu-")
    assert job["container"]["image"].startswith("python:3.11-")
    assert job["env"]["CI"] == "true"
    assert run_lines(job).count("bash .ci/run") == 1
    assert not [line for line in run_lines(job) if line.startswith(("make ", "pytest"))], (
        "the workflow runs what .ci/run runs, nothing else")


def test_ci_runs_the_readme_commands_in_the_readme_order():
    blocks = re.findall(r"```(?:bash|sh|console)?\n(.*?)```", (ROOT / "README.md").read_text(),
                        re.DOTALL)
    readme = [c for c in (line.split("#")[0].strip() for line in blocks[0].splitlines()) if c]
    assert readme == ["make book", "make test"]
    stages = re.findall(r"^stage \w+ (make [\w-]+)$", (ROOT / ".ci" / "run").read_text(),
                        re.MULTILINE)
    assert [s for s in stages if s in readme] == readme, stages


@pytest.mark.parametrize("path", [WORKFLOW, TEST_WORKFLOW], ids=lambda p: p.name)
def test_the_execution_cache_is_keyed_by_what_chapters_run(path):
    """The cache key is the execution key, computed by coursetools.execute (not a copy of its
    inputs), and the chapters' code; a fallback keeps the execution key."""
    steps = [step for job in _load(path)["jobs"].values() for step in job.get("steps", [])]
    keyed = [step for step in steps if step.get("run", "").strip() ==
             'echo "key=$(python3 -m coursetools.execute --key)" >> "$GITHUB_OUTPUT"']
    assert len(keyed) == 1, "no step computes the execution key with coursetools.execute"
    execution_key = "${{ steps." + keyed[0]["id"] + ".outputs.key }}"
    caches = [step for step in steps if step.get("uses", "").startswith("actions/cache")
              and step["with"]["path"] == "_build/.jupyter_cache"]
    assert len(caches) == 1 and steps.index(keyed[0]) < steps.index(caches[0])
    assert caches[0]["with"]["key"] == (f"jupyter-cache-{execution_key}-"
                                        "${{ hashFiles('chapters/*.ipynb') }}")
    assert caches[0]["with"].get("restore-keys", "").strip() in ("", f"jupyter-cache-{execution_key}-")
