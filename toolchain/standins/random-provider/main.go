// A stand-in for pulumi-resource-random, whose provider module the Go module proxy does not serve
// (github.com/pulumi/pulumi-random/provider/v4 is refused at every version). It implements the one resource this
// project uses, random:index/randomId:RandomId, with the behaviour of terraform-provider-random's random_id
// (internal/provider/resource_id.go): every input forces a new resource, and the outputs are the random bytes as
// hex, standard and URL-safe base64 and decimal, each after `prefix`; the id is the URL-safe base64 form. It does
// not exercise the Terraform bridge that the real provider runs on.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

var version = "0.0.0-standin" // set at build time

const randomID = "random:index/randomId:RandomId"

// inputs are the resource's inputs; any change to one replaces it (ForceNew upstream).
var inputs = []string{"byteLength", "keepers", "prefix"}

type provider struct {
	pulumirpc.UnimplementedResourceProviderServer
}

func main() {
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error { pulumirpc.RegisterResourceProviderServer(srv, &provider{}); return nil },
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-random (stand-in): %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-random (stand-in): %v\n", err)
		os.Exit(1)
	}
}

func only(urn string) error {
	if resourceType(urn) != randomID {
		return status.Errorf(codes.InvalidArgument, "the random stand-in provides only %s, not %s", randomID, urn)
	}
	return nil
}

// resourceType is the type part of a URN: urn:pulumi:stack::project::[parent$]type::name.
func resourceType(urn string) string {
	parts := strings.SplitN(urn, "::", 4)
	if len(parts) < 4 {
		return ""
	}
	types := strings.Split(parts[2], "$")
	return types[len(types)-1]
}

func (p *provider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (p *provider) Handshake(context.Context, *pulumirpc.ProviderHandshakeRequest) (
	*pulumirpc.ProviderHandshakeResponse, error,
) {
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: true, AcceptResources: true}, nil
}

func (p *provider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.News}, nil
}

func (p *provider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (p *provider) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true}, nil
}

func (p *provider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if err := only(req.Urn); err != nil {
		return nil, err
	}
	length, ok := req.News.GetFields()["byteLength"]
	if n, isNumber := length.GetKind().(*structpb.Value_NumberValue); ok && isNumber && n.NumberValue < 1 {
		return &pulumirpc.CheckResponse{Failures: []*pulumirpc.CheckFailure{
			{Property: "byteLength", Reason: "byteLength must be at least 1"},
		}}, nil
	}
	return &pulumirpc.CheckResponse{Inputs: req.News}, nil
}

func (p *provider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	if err := only(req.Urn); err != nil {
		return nil, err
	}
	olds := req.OldInputs
	if olds == nil {
		olds = req.Olds
	}
	var changed []string
	for _, key := range inputs {
		if !proto.Equal(olds.GetFields()[key], req.News.GetFields()[key]) {
			changed = append(changed, key)
		}
	}
	if len(changed) == 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
	}
	return &pulumirpc.DiffResponse{
		Changes: pulumirpc.DiffResponse_DIFF_SOME, Diffs: changed, Replaces: changed, DeleteBeforeReplace: false,
	}, nil
}

func (p *provider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	if err := only(req.Urn); err != nil {
		return nil, err
	}
	outs := proto.Clone(req.Properties).(*structpb.Struct)
	if outs.Fields == nil {
		outs.Fields = map[string]*structpb.Value{}
	}
	computed := []string{"hex", "b64Std", "b64Url", "dec"}
	if req.Preview {
		for _, key := range computed {
			outs.Fields[key] = structpb.NewStringValue(plugin.UnknownStringValue)
		}
		return &pulumirpc.CreateResponse{Properties: outs}, nil
	}
	n := int(outs.Fields["byteLength"].GetNumberValue())
	if n < 1 {
		return nil, status.Error(codes.InvalidArgument, "byteLength must be at least 1")
	}
	raw := make([]byte, n)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	prefix := outs.Fields["prefix"].GetStringValue()
	values := map[string]string{
		"hex":    prefix + hex.EncodeToString(raw),
		"b64Std": prefix + base64.StdEncoding.EncodeToString(raw),
		"b64Url": prefix + base64.RawURLEncoding.EncodeToString(raw),
		"dec":    prefix + new(big.Int).SetBytes(raw).String(),
	}
	for key, value := range values {
		outs.Fields[key] = structpb.NewStringValue(value)
	}
	return &pulumirpc.CreateResponse{Id: values["b64Url"], Properties: outs}, nil
}

func (p *provider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{Id: req.Id, Properties: req.Properties, Inputs: req.Inputs}, nil
}

func (p *provider) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	// Every input replaces, so an update only ever carries unchanged inputs: keep the outputs.
	return &pulumirpc.UpdateResponse{Properties: req.Olds}, nil
}

func (p *provider) Delete(context.Context, *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}
