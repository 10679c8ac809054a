"""The autograde service: a submission is graded when it arrives, and its feedback returned.

A JupyterHub-managed service, run as its own account (``<prefix>grader``), which is in the
course group and nothing else: it can list the exchange's ``inbound/`` and write the course
folder, never read a student's home. Every ``poll_seconds`` it

1. **notices** new folders in ``inbound/`` and checks their owners
   (:mod:`coursetools.exchange`): an impostor is refused, kept under ``refused/`` and shown
   on the status page;
2. **queues** what the instructor's settings allow (``autograde.json`` in the course folder,
   read at every pass): per assignment ``off``, ``grade`` (grade only) or ``return`` (grade
   and release the feedback at once); at most ``per_hour`` graded submissions per student in
   any hour (the rest wait in the queue, in view);
3. **grades** the queue with the course's grader, ``python -m coursetools.grade`` (the
   sandbox, the same as ``make grade``), after collecting each submission with its owner
   checked;
4. **returns** feedback (``nbgrader release_feedback --student``: a page in the exchange
   named by a hash of that submission's secret, which only its student has). A submission
   the grader could not grade is listed for the instructor and kept in ``submitted/``; when
   the assignment returns feedback, its student gets a page saying it waits for the
   instructor, not a score.

Its status (settings, queue, counts in the last hour, recent results with their times,
refusals) is ``autograde/status.json`` in the course folder and the service's page
``/services/autograde/`` on the hub, which only the instructor may open.
"""
import dataclasses
import html
import json
import os
import pathlib
import subprocess
import sys
import threading
import time

from nbgrader.utils import parse_utc

from coursetools import exchange
from coursetools.grade import SCORED  # the statuses that have a score
from coursetools.hub.classroom import BIN

MODES = ("off", "grade", "return")
HOUR = 3600.0
WAITING_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{assignment}: waiting for the instructor</title></head>
<body><h1>{assignment}: waiting for the instructor</h1>
<p>Your submission of {timestamp} could not be graded automatically
({reason}). It has been kept, and your instructor will grade it. This is not a score.</p>
</body></html>
"""


@dataclasses.dataclass
class Job:
    folder: str                  # the inbound folder's name
    student: str
    assignment: str
    timestamp: str               # written by `nbgrader submit` (the student's clock)
    noticed: float
    status: str = "queued"       # queued | waiting (limit) | grading | superseded | refused |
    #                              off | ungradable | one of coursetools.grade.SCORED
    detail: str = ""
    score: str = ""
    graded: float = 0.0
    returned: float = 0.0

    @property
    def submitted(self) -> float:
        try:
            return parse_utc(self.timestamp).timestamp()
        except (ValueError, OverflowError):
            return self.noticed


def release_feedback(course: pathlib.Path, assignment: str, student: str):
    """``nbgrader release_feedback ASSIGNMENT --student STUDENT`` in this process (a new
    nbgrader process costs seconds of start-up, more than the copy itself)."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default.release_feedback import ExchangeReleaseFeedback

    config = exchange.nbgrader_config(course)
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id, coursedir.student_id = assignment, student
    ExchangeReleaseFeedback(coursedir=coursedir, authenticator=Authenticator(config=config),
                            config=config).start()


class Service:
    def __init__(self, course: pathlib.Path, inbound: pathlib.Path):
        self.course, self.inbound = course, inbound
        self.folder = course / "autograde"
        self.folder.mkdir(exist_ok=True)
        self.lock = threading.Lock()
        self.jobs: dict[str, Job] = {}
        self.refused: list[dict] = []
        saved = self.folder / "state.json"
        if saved.exists():                     # a restart resumes where it stopped
            data = json.loads(saved.read_text())
            self.jobs = {j["folder"]: Job(**j) for j in data["jobs"]}
            self.refused = data["refused"]
            for job in self.jobs.values():
                if job.status == "grading":
                    job.status = "queued"

    # -- settings ---------------------------------------------------------------------------
    def settings(self) -> dict:
        try:
            settings = json.loads((self.course / "autograde.json").read_text())
        except (OSError, ValueError):
            settings = {}
        settings.setdefault("per_hour", 3)
        settings.setdefault("jobs", 1)
        settings.setdefault("poll_seconds", 1.0)
        settings.setdefault("settle_seconds", 2.0)
        settings.setdefault("assignments", {})
        return settings

    def mode(self, settings: dict, assignment: str) -> str:
        mode = settings["assignments"].get(assignment, "off")
        return mode if mode in MODES else "off"

    # -- one pass ---------------------------------------------------------------------------
    def notice(self, settings: dict) -> list[Job]:
        """New inbound folders become jobs (or refusals)."""
        try:
            entries = exchange.inbound_entries(self.inbound)
        except FileNotFoundError:              # nothing released yet
            return []
        new = []
        for entry in entries:
            if entry.name in self.jobs:
                continue
            job = Job(entry.name, entry.student, entry.assignment, entry.timestamp, time.time())
            self.jobs[entry.name] = job
            if entry.problem:
                record = exchange.refuse(self.course, entry, self.inbound / entry.name,
                                         entry.problem)
                self.refused.append(record)
                job.status, job.detail = "refused", entry.problem
                continue
            if self.mode(settings, entry.assignment) == "off":
                job.status = "off"
                job.detail = "autograde is off for this assignment: the instructor grades it"
            new.append(job)
        return new

    def graded_last_hour(self, student: str, now: float) -> int:
        return sum(1 for job in self.jobs.values() if job.student == student and job.graded
                   and now - job.graded < HOUR)

    def ready(self, settings: dict) -> list[Job]:
        """The queued jobs that may be graded now: the newest per student and assignment
        (older ones are superseded), within each student's hourly limit."""
        now, ready = time.time(), []
        queued = sorted((j for j in self.jobs.values() if j.status in ("queued",
                                                                         "waiting (limit)")),
                        key=lambda j: (j.submitted, j.folder))
        newest = {}
        for job in queued:
            older = newest.get((job.student, job.assignment))
            if older is not None:
                older.status, older.detail = "superseded", f"a newer submission: {job.folder}"
            newest[(job.student, job.assignment)] = job
        taken = {}
        for job in newest.values():
            if self.mode(settings, job.assignment) == "off":
                job.status = "off"
                continue
            used = self.graded_last_hour(job.student, now) + taken.get(job.student, 0)
            if used >= settings["per_hour"]:
                job.status = "waiting (limit)"
                job.detail = (f"{used} graded in the last hour, the limit is "
                              f"{settings['per_hour']}: graded when the hour allows")
                continue
            taken[job.student] = taken.get(job.student, 0) + 1
            job.status, job.detail = "grading", ""
            ready.append(job)
        return ready

    def grade(self, jobs: list[Job], settings: dict):
        """Collect each job's folder (owner checked again), grade them all with the course's
        grader in one run, then return feedback where the assignment says so."""
        for job in jobs:
            got = exchange.collect(self.course, self.inbound, job.assignment,
                                   students={job.student}, only={job.folder})
            self.refused += got.refused
            if (job.student, job.assignment) not in got.collected:
                job.status, job.detail = "refused", "its folder changed owner or vanished"
        jobs = [job for job in jobs if job.status == "grading"]
        if not jobs:
            return
        with open(self.folder / "grader.log", "a") as log:
            log.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')}: "
                      f"{', '.join(j.folder for j in jobs)} ====\n")
            log.flush()
            subprocess.run([str(BIN / "python"), "-m", "coursetools.grade", "--course",
                            str(self.course), "--jobs", str(settings["jobs"])],
                           cwd=self.course, stdout=log, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, check=False, env=self.env())
        rows = self.grades()
        for job in jobs:
            row = rows.get((job.student, job.assignment), {})
            job.graded = time.time()
            status = row.get("status", "ungradable")
            job.status = status if status in SCORED else "ungradable"
            job.detail = row.get("detail", "") or ("" if row else "no row in grades.csv")
            if job.status != "ungradable":
                by_hand = float(row.get("points_to_grade_by_hand") or 0)
                job.score = f"{float(row['score']):g}/{float(row['max_score']):g}" + (
                    f" (+{by_hand:g} by hand, not graded yet)" if by_hand else "")
            if self.mode(settings, job.assignment) == "return":
                self.give_back(job)

    def give_back(self, job: Job):
        if job.status == "ungradable":
            self.waiting_page(job)
        try:
            release_feedback(self.course, job.assignment, job.student)
            job.returned = time.time()
        except Exception as err:   # noqa: BLE001 (shown to the instructor, the service goes on)
            job.detail = (job.detail + "; " if job.detail else "") + (
                f"release_feedback failed: {err!r}"[:300])

    def waiting_page(self, job: Job):
        """A feedback page that says the submission waits for the instructor (release_feedback
        needs the submission's time and secret beside it, from submitted/)."""
        source = self.course / "submitted" / job.student / job.assignment
        target = self.course / "feedback" / job.student / job.assignment
        target.mkdir(parents=True, exist_ok=True)
        for name in exchange.EXCHANGE_FILES:
            if (source / name).is_file():
                (target / name).write_bytes((source / name).read_bytes())
        for notebook in source.glob("*.ipynb"):
            (target / f"{notebook.stem}.html").write_text(WAITING_PAGE.format(
                assignment=html.escape(job.assignment), timestamp=html.escape(job.timestamp),
                reason=html.escape(job.detail[:200] or "the grader could not run it")))

    def grades(self) -> dict:
        import csv
        path = self.course / "grades.csv"
        if not path.exists():
            return {}
        with open(path) as handle:
            return {(row["student_id"], row["assignment"]): row
                    for row in csv.DictReader(handle)}

    def env(self) -> dict:
        return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}

    def step(self):
        settings = self.settings()
        with self.lock:
            new = self.notice(settings)
        if new:       # submissions come in bursts (a deadline, a class): grade a burst at once
            time.sleep(float(settings["settle_seconds"]))
        with self.lock:
            self.notice(settings)
            jobs = self.ready(settings)
        if jobs:
            self.save()
            self.grade(jobs, settings)
        self.save()

    # -- what the instructor sees ------------------------------------------------------------
    def status(self) -> dict:
        settings, now = self.settings(), time.time()
        with self.lock:
            jobs = sorted(self.jobs.values(), key=lambda j: j.noticed)
            students = sorted({j.student for j in jobs})
            return {
                "settings": settings,
                "per_hour": settings["per_hour"],
                "queue": [dataclasses.asdict(j) for j in jobs
                          if j.status in ("queued", "waiting (limit)", "grading")],
                "graded_last_hour": {s: self.graded_last_hour(s, now) for s in students},
                "recent": [{**dataclasses.asdict(j),
                            "submit_to_feedback_s": round(j.returned - j.submitted, 1)
                            if j.returned else None}
                           for j in jobs[-200:]],
                "ungradable": [dataclasses.asdict(j) for j in jobs if j.status == "ungradable"],
                "refused": self.refused[-200:],
            }

    def save(self):
        with self.lock:
            data = {"jobs": [dataclasses.asdict(j) for j in self.jobs.values()],
                    "refused": self.refused}
        temporary = self.folder / "state.json.new"
        temporary.write_text(json.dumps(data, indent=1))
        temporary.replace(self.folder / "state.json")
        status = self.folder / "status.json.new"
        status.write_text(json.dumps(self.status(), indent=1))
        status.replace(self.folder / "status.json")


def loop(service: Service, stop: threading.Event):
    while not stop.is_set():
        try:
            service.step()
        except Exception as err:    # noqa: BLE001 (logged; the service keeps serving)
            print(f"autograde: a pass failed: {err!r}", file=sys.stderr, flush=True)
        stop.wait(float(service.settings()["poll_seconds"]))


def serve(service: Service):
    """The status page, behind the hub's OAuth: only accounts granted
    access:services!service=autograde (the instructor) get it."""
    from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
    from jupyterhub.utils import url_path_join
    from tornado import ioloop, web

    prefix = os.environ["JUPYTERHUB_SERVICE_PREFIX"]

    class Status(HubOAuthenticated, web.RequestHandler):
        @web.authenticated
        def get(self):
            self.set_header("Content-Type", "application/json")
            self.write(json.dumps(service.status(), indent=1))

    app = web.Application([
        (prefix, Status),
        (url_path_join(prefix, "status.json"), Status),
        (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
    ], cookie_secret=os.urandom(32))
    url = os.environ["JUPYTERHUB_SERVICE_URL"]
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    app.listen(port, address="127.0.0.1")
    ioloop.IOLoop.current().start()


def main():
    os.umask(0o007)            # what it writes in the course folder stays the group's
    course, inbound = (pathlib.Path(os.environ[name]) for name in ("RNN_COURSE", "RNN_INBOUND"))
    service = Service(course, inbound)
    stop = threading.Event()
    threading.Thread(target=loop, args=(service, stop), daemon=True).start()
    print(f"autograde: watching {inbound}", flush=True)
    serve(service)


if __name__ == "__main__":
    main()
