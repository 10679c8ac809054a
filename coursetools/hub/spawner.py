"""Each account's JupyterLab, started as that account with its role's umask and environment."""
import os

from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Unicode

from coursetools.hub.classroom import UMASK, Classroom, environment


class CourseSpawner(LocalProcessSpawner):
    """LocalProcessSpawner, plus: the umask of the account's role (single-user servers do
    not read /etc/profile.d) and the course's environment and Jupyter configuration."""

    class_root = Unicode(help="the folder of the class (class.json)").tag(config=True)

    @property
    def classroom(self) -> Classroom:
        return Classroom.load(self.class_root)

    def make_preexec_fn(self, name):
        become = super().make_preexec_fn(name)
        mask = UMASK[self.classroom.role(name)]

        def preexec():
            os.umask(mask)
            become()
        return preexec

    def get_env(self):
        env = super().get_env()
        env.update(environment(self.classroom, self.user.name))
        return env
