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

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			t := provenance.Tool(version)
			built := ""
			if t.Revision != "" {
				built = "revision " + t.Revision
				if t.Modified {
					built += ", modified"
				}
				built += "; "
			}
			_, err := fmt.Fprintf(stdout, "rustci-perf %s (%s%s %s/%s)\n", t.Version, built, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
