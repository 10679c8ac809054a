"""The class hub: JupyterHub with PAM accounts, nbgrader's exchange and an autograde service.

``classroom`` sets a class up (the steps of instructors/deployment.md), ``jupyterhub_config``
is the hub's configuration, ``spawner`` starts each account's JupyterLab, ``autograde`` is
the service that grades a submission when it arrives, ``__main__`` is ``make hub``.
"""
