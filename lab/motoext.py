# motoext.py: what the lab adds to moto's SageMaker, in moto's own process
# (lab/ctrl.c runs `python3 -c <this> <moto.server arguments>`, with
# MLSH_LAB_STATE naming the lab's state directory). moto 5 has no
# CreatePresignedNotebookInstanceUrl, starts a notebook straight into
# InService and cannot hold a FailureReason; SageMaker goes Pending ->
# InService once the lifecycle configuration has run and Jupyter answers,
# or Pending -> Failed with a reason
# (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeNotebookInstance.html).
# The reconciler (lab/notebook.c) moves a notebook on with the lab-only
# action MlshLabSetNotebookInstanceStatus.
import json
import os
import re
import secrets
import sys
import time

from moto.sagemaker import models, responses
from moto.sagemaker.exceptions import ValidationError

NB = models.FakeSagemakerNotebookInstance
STATE = os.environ.get("MLSH_LAB_STATE", "")
JUPYTER_PORT = 8443  # SageMaker's Jupyter port; plain HTTP in the lab
URL_TTL = 300  # "valid only for 5 minutes" (CreatePresignedNotebookInstanceUrl)


def _start(self):
    # Pending until the lab has run the lifecycle scripts and Jupyter answers.
    self.status = "Pending"
    self.failure_reason = None


_to_dict = NB.to_dict


def _to_dict_lab(self):
    d = _to_dict(self)
    if getattr(self, "failure_reason", None):
        d["FailureReason"] = self.failure_reason
    return d


NB.start = _start
NB.to_dict = _to_dict_lab


def _host_dir(name):
    # lab/notebook.c: the host of notebook NAME is hosts/nb-NAME.
    return os.path.join(STATE, "hosts", "nb-" + name)


def _private_ip(name):
    try:
        with open(os.path.join(_host_dir(name), "spec")) as f:
            for line in f:
                if line.startswith("private_ip="):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return None


def set_status(self):
    nb = self.sagemaker_backend.get_notebook_instance(
        self._get_param("NotebookInstanceName"))
    status = self._get_param("NotebookInstanceStatus")
    if status not in ("Pending", "InService", "Failed", "Stopped"):
        raise ValidationError(message="bad status %r" % status)
    nb.status = status
    nb.failure_reason = self._get_param("FailureReason") or None
    return json.dumps({})


def presign(self):
    name = self._get_param("NotebookInstanceName")
    nb = self.sagemaker_backend.get_notebook_instance(name)
    session = self._get_param("SessionExpirationDurationInSeconds") or 43200
    if not 1800 <= int(session) <= 43200:
        raise ValidationError(message="SessionExpirationDurationInSeconds "
                              "must be 1800 to 43200")
    ip = _private_ip(name)
    if nb.status != "InService" or ip is None:
        raise ValidationError(message="Notebook Instance %s is not in "
                              "InService state" % nb.arn)
    token = secrets.token_urlsafe(32)
    now = int(time.time())
    path = os.path.join(_host_dir(name), "sys", "tokens")
    keep = []
    try:
        with open(path) as f:
            keep = [l for l in f if len(l.split()) == 3
                    and int(l.split()[1]) > now]
    except (OSError, ValueError):
        keep = []
    keep.append("%s %d %d\n" % (token, now + URL_TTL, now + int(session)))
    tmp = path + ".tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
              "w") as f:
        f.writelines(keep)
    os.rename(tmp, path)
    return json.dumps({"AuthorizedUrl": "http://%s:%d/tree?authToken=%s"
                       % (ip, JUPYTER_PORT, token)})


_parse = responses.SageMakerResponse.parse_parameters


def _parse_lab(self, request):
    # botocore's model does not know the lab's action: its JSON as it is.
    if self._get_action() == "MlshLabSetNotebookInstanceStatus":
        self.params = json.loads(self.body or "{}")
        return
    _parse(self, request)


responses.SageMakerResponse.parse_parameters = _parse_lab
responses.SageMakerResponse.mlsh_lab_set_notebook_instance_status = set_status
responses.SageMakerResponse.create_presigned_notebook_instance_url = presign

from moto.server import main  # noqa: E402

main(sys.argv[1:])
