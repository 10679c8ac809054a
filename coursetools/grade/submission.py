"""What `make grade` knows about one submission: its status and the files it was graded from."""
import dataclasses
import enum
import hashlib


class Status(enum.StrEnum):
    """The status of a student x assignment, as ``grades.csv`` and the table write it.

    A StrEnum: it compares equal to its text, so a status read back from ``grades.csv`` (the
    hub's service does) is compared with these members directly."""

    NOT_SUBMITTED = "not submitted"
    UNGRADABLE = "ungradable"
    TO_GRADE = "to grade"           # read in, not graded yet: never left at the end of a run
    GRADED = "graded"
    TIMED_OUT = "timed out"         # graded; the notebook ran past its time limit
    KERNEL_DIED = "kernel died"     # graded; the cells from the death on score 0


# the statuses of a submission that has scores
SCORED = (Status.GRADED, Status.TIMED_OUT, Status.KERNEL_DIED)

DETAIL = {
    Status.TIMED_OUT: "ran past the notebook time limit; the cells after it score 0",
    Status.KERNEL_DIED: "the kernel died; the cells from there on score 0",
}


@dataclasses.dataclass
class Submission:
    student: str
    assignment: str
    status: Status = Status.NOT_SUBMITTED
    detail: str = ""
    ignored: list[str] = dataclasses.field(default_factory=list)      # entries not read, and why
    files: dict[str, bytes] = dataclasses.field(default_factory=dict)  # name -> bytes to stage
    newest: float = 0.0                                # mtime of the newest staged file
    suspicious: list[str] = dataclasses.field(default_factory=list)    # static scan, for a human

    @property
    def digest(self) -> str:
        """sha256 of the staged files: a resubmission is graded again whatever its mtime."""
        hasher = hashlib.sha256()
        for name in sorted(self.files):
            hasher.update(name.encode() + b"\0" + hashlib.sha256(self.files[name]).digest())
        return hasher.hexdigest()

    @property
    def key(self) -> tuple[str, str]:
        return self.student, self.assignment

    @property
    def notebooks(self) -> list[str]:
        """The staged notebooks' file names."""
        return [name for name in self.files if name.endswith(".ipynb")]

    def fail(self, detail: str) -> "Submission":
        self.status, self.detail = Status.UNGRADABLE, detail
        return self
