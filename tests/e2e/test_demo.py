"""scripts/demo's real mode: a throwaway control plane, pulumi up, a summary by method, destroy."""

import subprocess
import sys

from toolchain.engine import REPO


def test_demo_deploys_the_prod_stack_summarises_by_method_and_tears_down(engine_bin):
    result = subprocess.run([sys.executable, "-m", "toolchain.demo", "prod", "--bin", str(engine_bin)],
                            cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "Method 1, node level: DaemonSet registry-credentials-node/registry-credentials-node-agent, 2/2" in out
    assert "Method 3, namespace defaults: 2 `default` ServiceAccounts list the Secret" in out
    assert "apps/default: imagePullSecrets [harbor-pull]" in out
    assert "payments: [{'name': 'harbor-pull'}]" in out
    assert out.rstrip().splitlines()[-1].startswith("torn down")
    assert "Traceback" not in result.stderr
