package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/rustci/rustci-perf/pkg/config"
)

// The commands' run functions take their options, not a *cobra.Command:
// tests call them directly.

func TestRunRunDirect(t *testing.T) {
	o := &runOptions{params: config.CommandLine(), format: "json", quiet: true, given: map[string]bool{"ops": true, "concurrency": true}}
	o.params.Defaults.Ops, o.params.Defaults.Concurrency = 200, 1
	o.compareFlags = compareFlags{alpha: 0.05, minEffect: "5%"}
	var stdout, stderr bytes.Buffer
	err := runRun(context.Background(), o, []string{"memory"}, &stdout, &stderr)
	var ee *exitError
	if err != nil && (!errors.As(err, &ee) || ee.code != exitThreshold) {
		t.Fatalf("runRun: %v (stderr %q)", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), `"name": "memory"`) || !strings.Contains(stdout.String(), `"ops": 200,`) {
		t.Errorf("runRun wrote no JSON report of 200 memory operations: %.400s", stdout.String())
	}
	// A flag's value out of range is named as the flag.
	o.params.Defaults.ReadRatio = 2
	o.given["read-ratio"] = true
	if err := runRun(context.Background(), o, []string{"latency"}, &stdout, &stderr); err == nil || !strings.HasPrefix(err.Error(), "--read-ratio 2: want 0 to 1") {
		t.Errorf("--read-ratio 2: error %v", err)
	}
}

func TestRunCompareDirect(t *testing.T) {
	var stdout bytes.Buffer
	o := &compareOptions{files: [2]string{"../../pkg/compare/testdata/base.json", "../../pkg/compare/testdata/regression.json"}, format: "text",
		compareFlags: compareFlags{alpha: 0.05, minEffect: "5%"}}
	err := runCompare(context.Background(), o, &stdout)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitThreshold || !strings.Contains(stdout.String(), "REGRESSION") {
		t.Errorf("runCompare(base, regression) = %v, stdout %.300q; want exit 1 and a regression", err, stdout.String())
	}
	o.format = "xml"
	if err := runCompare(context.Background(), o, &stdout); err == nil || err.Error() != `--format "xml": want json, markdown, text` {
		t.Errorf("--format xml: error %v", err)
	}
}

func TestRunMergeDirect(t *testing.T) {
	o := &mergeOptions{files: []string{"../../pkg/compare/testdata/base.json", "../../pkg/compare/testdata/base.json"}, format: "text"}
	if err := runMerge(context.Background(), o, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("runMerge of one report twice: error %v; want it refused", err)
	}
}
