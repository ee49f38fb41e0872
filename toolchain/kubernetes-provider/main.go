// pulumi-resource-kubernetes, built from the provider module's public API. Upstream's own main.go embeds files
// that `go generate` writes and that are not in the module zip (schema-embed.json, terraform-mapping-embed.json);
// scripts/toolchain writes them beside this file from the module's schema.json and terraform-mapping.json.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var schema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() { provider.Serve("kubernetes", version.Version, schema, terraformMapping) }
