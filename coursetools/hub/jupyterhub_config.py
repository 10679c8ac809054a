"""The class hub's JupyterHub configuration: ``jupyterhub -f`` this file, with the class's
folder in ``RNN_HUB_ROOT`` (``python -m coursetools.hub start`` does both).

PAM accounts, one JupyterLab per account (LocalProcessSpawner, as that account), the proxy
from npm (coursetools/hub/node_modules), and the autograde service under its own account.
Everything the hub keeps (its database, cookie secret) is under root/state: a restart
loses nothing, and the course's files live in the course folder and the exchange anyway.
"""
import os
import pathlib
import sys

from coursetools.hub.classroom import BIN, Classroom, environment

c = get_config()  # noqa: F821
classroom = Classroom.load(os.environ["RNN_HUB_ROOT"])
HERE = pathlib.Path(__file__).resolve().parent

c.JupyterHub.bind_url = f"http://127.0.0.1:{classroom.port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = classroom.hub_port
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{classroom.proxy_api_port}"
c.ConfigurableHTTPProxy.command = [str(HERE / "node_modules" / ".bin" /
                                       "configurable-http-proxy")]
c.ConfigurableHTTPProxy.auth_token = (classroom.state / "proxy_token").read_text().strip()
c.JupyterHub.db_url = f"sqlite:///{classroom.state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(classroom.state / "cookie_secret")
c.JupyterHub.pid_file = str(classroom.state / "jupyterhub.pid")
c.JupyterHub.log_level = os.environ.get("RNN_HUB_LOG_LEVEL", "INFO")

c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False       # no login session (utmp, systemd) per server
c.Authenticator.allowed_users = {classroom.instructor, *classroom.student_accounts}
c.Authenticator.admin_users = {classroom.instructor}

c.JupyterHub.spawner_class = "coursetools.hub.spawner.CourseSpawner"
c.CourseSpawner.class_root = str(classroom.root)
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 90

service_account = classroom.grader
c.JupyterHub.services = [{
    "name": "autograde",
    "url": f"http://127.0.0.1:{classroom.service_port}",
    "command": [sys.executable, "-m", "coursetools.hub.autograde"],
    "user": service_account,
    "cwd": str(classroom.course),
    "environment": {**environment(classroom, service_account),
                    "RNN_COURSE": str(classroom.course), "RNN_INBOUND": str(classroom.inbound)},
    "oauth_no_confirm": True,
    "display": True,
}]
# its status page (the queue, the limit, what it refused) is the instructor's only
c.JupyterHub.load_roles = [{
    "name": "autograde-status",
    "scopes": ["access:services!service=autograde"],
    "users": [classroom.instructor],
}]
