// The same component and workload as ../yaml/Pulumi.yaml. `pulumi package add ../../provider` generates the
// "@pulumi/registry-credentials" SDK this imports (README.md: the steps).
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as registryCredentials from "@pulumi/registry-credentials";

const config = new pulumi.Config();

const credentials = new registryCredentials.RegistryCredentials("credentials", {
    registries: [
        {
            server: "harbor.example.com",
            username: "ci-bot",
            password: config.requireSecret("harborPassword"),
        },
    ],
    namespaces: [
        { name: "apps", serviceAccounts: ["builder"] },
        { name: "legacy", defaultServiceAccount: true, foreignPullSecrets: "keep" },
    ],
    secretName: "harbor-pull",
    nodeBootstrap: { enabled: false },
});

// Method 4 (pod level) without the Python-only transform: put the output into the pod spec.
new k8s.apps.v1.Deployment("web", {
    metadata: { namespace: "apps" },
    spec: {
        selector: { matchLabels: { app: "web" } },
        template: {
            metadata: { labels: { app: "web" } },
            spec: {
                imagePullSecrets: credentials.imagePullSecrets.apply((byNamespace) => byNamespace["apps"]),
                containers: [{ name: "web", image: "harbor.example.com/team/web:1.0" }],
            },
        },
    },
});

export const secretNames = credentials.secretNames;
export const serviceAccounts = credentials.serviceAccounts;
export const dockerconfigjson = credentials.dockerconfigjson;
