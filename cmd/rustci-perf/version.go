// The version command, and the version stamped at build time.

package main

import (
	"fmt"
	"io"
	"runtime"

	"github.com/rustci/rustci-perf/pkg/provenance"
	"github.com/spf13/cobra"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3"; left
// "dev", the version is the module's from the build information
// (provenance.Tool).
var version = "dev"

// versionLine is what version and --version print: the version, the
// revision built from, Go's version and the platform.
func versionLine() string {
	t := provenance.Tool(version)
	built := ""
	if t.Revision != "" {
		built = "revision " + t.Revision
		if t.Modified {
			built += ", modified"
		}
		built += "; "
	}
	return fmt.Sprintf("rustci-perf %s (%s%s %s/%s)", t.Version, built, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version (as rustci-perf --version does)",
		Example: "  rustci-perf version\n  rustci-perf --version",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(stdout, versionLine())
			return err
		},
	}
}
