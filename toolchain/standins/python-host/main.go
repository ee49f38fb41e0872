// A stand-in for pulumi-language-python, which the Go module proxy does not serve (its module,
// github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3, is never tagged and no pseudo-version is
// mirrored). It implements only what this project's tests and demo use, on the SDK's public packages:
//   - Run: a Python program, through the SDK's own pulumi-language-python-exec script (installed beside it);
//   - RunPlugin: a Python plugin directory (our component provider), as `python <dir> <args>`;
//   - InstallDependencies: `pip install -r requirements.txt` into the project's virtualenv.
// It follows the upstream host's behaviour for these (pulumi/pulumi sdk/python/cmd/pulumi-language-python/main.go:
// Run, constructArguments, constructConfig, RunPlugin, Handshake) and leaves out typecheckers, debuggers, poetry/uv,
// policy packs, code generation and dependency reporting (GetRequiredPackages answers none, so the engine loads
// providers on demand, as it does for Automation API inline programs).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is set at build time (-ldflags -X main.version=...), like the real host's.
var version = "0.0.0-standin"

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	exec          string // pulumi-language-python-exec, beside this binary
	engineAddress string
}

func main() {
	self, err := os.Executable()
	if err != nil {
		fail(err)
	}
	h := &host{exec: filepath.Join(filepath.Dir(self), "pulumi-language-python-exec")}
	for _, arg := range os.Args[1:] { // the engine passes flags, then its address last
		if len(arg) > 0 && arg[0] != '-' {
			h.engineAddress = arg
		}
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error { pulumirpc.RegisterLanguageRuntimeServer(srv, h); return nil },
	})
	if err != nil {
		fail(err)
	}
	fmt.Printf("%d\n", handle.Port) // the engine reads the port from our first line
	if err := <-handle.Done; err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "pulumi-language-python (stand-in): %v\n", err)
	os.Exit(1)
}

func (h *host) Handshake(ctx context.Context, req *pulumirpc.LanguageHandshakeRequest) (
	*pulumirpc.LanguageHandshakeResponse, error,
) {
	h.engineAddress = req.EngineAddress
	// Exit when the engine goes away, as the upstream host does (rpcutil.Healthcheck).
	if err := rpcutil.Healthcheck(context.Background(), h.engineAddress, 5*time.Minute, func() { os.Exit(0) }); err != nil {
		return nil, err
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *host) GetRequiredPackages(context.Context, *pulumirpc.GetRequiredPackagesRequest) (
	*pulumirpc.GetRequiredPackagesResponse, error,
) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *host) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest) (
	*pulumirpc.GetRequiredPluginsResponse, error,
) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) { return &emptypb.Empty{}, nil }

// resolve finds the project's virtualenv (the `virtualenv` runtime option; plugins default to `venv`).
func resolve(info *pulumirpc.ProgramInfo, isPlugin bool) (toolchain.Toolchain, error) {
	opts := toolchain.PythonOptions{Root: info.RootDirectory, ProgramDir: info.ProgramDirectory}
	if v, ok := info.Options.AsMap()["virtualenv"].(string); ok {
		opts.Virtualenv = v
	} else if isPlugin {
		opts.Virtualenv = "venv"
	}
	return toolchain.ResolveToolchain(opts)
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	tc, err := resolve(req.Info, false)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}
	args := []string{h.exec}
	flag := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	flag("monitor", req.GetMonitorAddress())
	flag("engine", h.engineAddress)
	flag("project", req.GetProject())
	flag("root_directory", req.GetInfo().RootDirectory)
	flag("stack", req.GetStack())
	flag("pwd", req.GetPwd())
	flag("dry_run", strconv.FormatBool(req.GetDryRun()))
	flag("parallel", strconv.Itoa(int(req.GetParallel())))
	flag("organization", req.GetOrganization())
	args = append(append(args, req.Info.EntryPoint), req.GetArgs()...)

	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return nil, err
	}
	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys, err := json.Marshal(append([]string{}, req.GetConfigSecretKeys()...))
	if err != nil {
		return nil, err
	}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if status, ok := exitErr.Sys().(syscall.WaitStatus); ok && status.ExitStatus() == 32 {
				// The exec script exits 32 after it has shown the user an actionable message (upstream's
				// pythonProcessExitedAfterShowingUserActionableMessage): bail without a second error.
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited with non-zero exit code: %d",
				exitErr.ExitCode())}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run the language executor: %v", err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	tc, err := resolve(req.Info, true)
	if err != nil {
		return err
	}
	// The plugin directory's __main__.py (ours has one), as upstream runs it: `python <dir> <args>`.
	cmd, err := tc.Command(server.Context(), append([]string{req.Info.ProgramDirectory}, req.Args...)...)
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()
	cmd.Dir = req.Pwd
	cmd.Env = append(cmd.Env, req.Env...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return server.Send(&pulumirpc.RunPluginResponse{
				Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(exitErr.ExitCode())},
			})
		}
		return fmt.Errorf("could not run the plugin: %w", err)
	}
	return closer.Close()
}

func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	tc, err := resolve(req.Info, req.IsPlugin)
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.IsTerminal)
	if err != nil {
		return err
	}
	defer closer.Close()
	if err := tc.InstallDependencies(server.Context(), req.Info.ProgramDirectory, false, true, stdout, stderr); err != nil {
		return err
	}
	return closer.Close()
}
