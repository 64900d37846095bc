"""Browsers receiving AWS IoT Core topics over MQTT on WebSocket, signed with the credentials
of a Cognito identity pool (stacks/common/browser_iot.py): the functions every system with
such browsers deploys.

- ``open_session``: an API route; attaches the system's IoT policy to the caller's own Cognito
  identity (AWS IoT requires one for authenticated identities, besides the role) and answers
  the endpoint, client-id prefix and topics.
- ``detach_policy_targets``: a custom resource; detaches that policy from every identity
  before CloudFormation deletes it.
"""
