"""scripts/demo's real mode: a throwaway control plane, pulumi up, the plan of what it created, destroy."""

import subprocess
import sys

from toolchain.engine import REPO

# Lines the real demo prints for the prod stack, read back from the API server: each object with the method it
# serves, as the offline render prints its plan.
PROD = [
    "pulumi up --stack prod created (read back from the API server): 8 objects",
    "  Secret apps/harbor-pull                                              pull Secret: methods 2-4 in this "
    "namespace rest on it",
    "  DaemonSet registry-credentials-node/registry-credentials-node-agent  method 1, node level: keeps "
    "config.json on every node",
    "  ServiceAccount apps/default (patch)                                  method 3, namespace defaults: patched: "
    "lists harbor-pull",
    "  method 2, ServiceAccounts: none; no namespace lists serviceAccounts or patchServiceAccounts",
    "  dockerconfigjson: [secret]",
    '  imagePullSecrets: {"apps": [{"name": "harbor-pull"}], "payments": [{"name": "harbor-pull"}], '
    '"registry-credentials-node": [{"name": "harbor-pull"}]}',
    "node agents of registry-credentials-node/registry-credentials-node-agent: 2/2 ready (kwok's fake nodes: "
    "scheduled and admitted, nothing runs)",
]


def test_demo_deploys_the_prod_stack_prints_its_plan_and_tears_down(engine_bin):
    result = subprocess.run([sys.executable, "-m", "toolchain.demo", "prod", "--bin", str(engine_bin)],
                            cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    positions = [lines.index(line) for line in PROD]
    assert positions == sorted(positions)
    assert lines[-1].startswith("torn down")
    assert "Traceback" not in result.stderr
