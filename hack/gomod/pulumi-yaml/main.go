// pulumi-language-yaml built from github.com/pulumi/pulumi-yaml's server package, with one
// difference from that module's own cmd/pulumi-language-yaml: package schemas are loaded through
// the engine (the loader RPC), not by the module's own copy of the plugin code (pulumi v3.206.0).
// That copy starts pulumi-language-python with a -root flag the CLI v3.259.0's host no longer
// accepts, so a Python component package (package/ in this repository) could not be used from YAML.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/pulumi/pulumi-yaml/pkg/server"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// schemasThroughEngine: load package schemas with the engine's loader RPC (the stock host: false).
const schemasThroughEngine = true

func main() {
	tracing := flag.String("tracing", "", "emit tracing to a Zipkin-compatible endpoint")
	// Accepted and ignored, as older CLIs pass them: the program's root arrives with each Run request.
	flag.String("root", "", "ignored")
	flag.String("compiler", "", "ignored")
	flag.Parse()
	logging.InitLogging(false, 0, false)
	cmdutil.InitTracing("pulumi-language-yaml", "pulumi-language-yaml", *tracing)

	// The engine's address comes last; without it the host serves until it is killed.
	var engineAddress string
	var stop chan bool
	if flag.NArg() > 0 {
		engineAddress = flag.Arg(0)
		stop = stopWhenEngineGoes(engineAddress)
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: stop,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv,
				server.NewLanguageHost(engineAddress, *tracing, schemasThroughEngine))
			return nil
		},
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("starting the language host's RPC server: %w", err))
	}
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("the language host's RPC server stopped: %w", err))
	}
}

// stopWhenEngineGoes returns a channel closed when the engine stops answering health checks or
// the process gets SIGINT: the host then stops serving and exits.
func stopWhenEngineGoes(engineAddress string) chan bool {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	stop := make(chan bool)
	go func() {
		<-ctx.Done()
		cancel()
		close(stop)
	}()
	if err := rpcutil.Healthcheck(ctx, engineAddress, 5*time.Minute, cancel); err != nil {
		cmdutil.Exit(fmt.Errorf("checking the engine's health at %s: %w", engineAddress, err))
	}
	return stop
}
