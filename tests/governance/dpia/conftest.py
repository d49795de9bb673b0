"""The deployment fixtures (planned_deployment, people) are shared with the deployment tests."""

from tests.recognition.deployments.conftest import people, planned_deployment  # noqa: F401
