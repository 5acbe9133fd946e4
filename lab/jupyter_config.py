# jupyter_config.py: the lab notebook host's Jupyter (Debian's notebook 6),
# written by lab/notebook.c as /etc/jupyter/jupyter_notebook_config.py.
# SageMaker's Jupyter sits behind its proxy on port 8443 and lets in whoever
# holds a presigned URL (?authToken=, valid 5 minutes). In the lab the
# control plane (lab/motoext.py) writes every URL's token, with when it stops
# being valid and when the session it opens ends, to /run/mlshlab/host/tokens;
# this login handler accepts them, and the server's own token is a secret
# nobody is given.
import secrets
import time
import uuid

from notebook.auth.login import LoginHandler

TOKENS = "/run/mlshlab/host/tokens"


class LabLogin(LoginHandler):
    @classmethod
    def get_user_token(cls, handler):
        given = handler.get_argument("authToken", "")
        if given:
            now = time.time()
            try:
                with open(TOKENS) as f:
                    for line in f:
                        w = line.split()
                        if (len(w) == 3 and secrets.compare_digest(w[0], given)
                                and int(w[1]) > now):
                            return uuid.uuid4().hex
            except (OSError, ValueError):
                pass
            return None
        return super().get_user_token(handler)


c = get_config()  # noqa: F821
c.NotebookApp.login_handler_class = LabLogin
c.NotebookApp.token = secrets.token_hex(32)
c.NotebookApp.ip = "0.0.0.0"
c.NotebookApp.port = 8443
c.NotebookApp.port_retries = 0
c.NotebookApp.open_browser = False
c.NotebookApp.notebook_dir = "/home/ec2-user/SageMaker"
c.NotebookApp.allow_remote_access = True
# The lab's URL names the host by address; a tunnel brings it to 127.0.0.1.
c.NotebookApp.allow_origin = "*"
