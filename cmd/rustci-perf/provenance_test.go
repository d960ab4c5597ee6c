package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/rustci/rustci-perf/pkg/report"
)

// TestProvenance: a run in a CI job records the commit, branch and run from
// the CI's variables, the file's meta: and --meta over them, and the
// built binary's version; every format says so; merge keeps what its
// sources share.
func TestProvenance(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "meta.yaml")
	if err := os.WriteFile(cfg, []byte("meta:\n  team: cache\n  runner: file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const sha = "0123456789abcdef0123456789abcdef01234567"
	env := []string{"GITLAB_CI=true", "CI_COMMIT_SHA=" + sha, "CI_COMMIT_REF_NAME=main", "CI_PIPELINE_ID=9",
		"CI_PIPELINE_URL=https://gitlab.example/p/9", "CI_JOB_NAME=perf"}
	// Two runners at once, as merge wants them.
	sides := []string{"a", "b"}
	results := make([]result, len(sides))
	var wg sync.WaitGroup
	for i, side := range sides {
		wg.Go(func() {
			results[i] = rustciPerfEnv(t, dir, env, "run", "cache-read", "--duration", "1s", "-q", "--config", cfg,
				"--meta", "runner="+side, "--meta", "note=x|y", "--output", side+".json", "--output", side+".md")
		})
	}
	wg.Wait()
	for i, side := range sides {
		r := results[i]
		if r.code != 0 {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		line := "commit 0123456789ab on main · gitlab-ci run 9 job perf (https://gitlab.example/p/9) · note=x|y · runner=" + side + " · team=cache"
		if !strings.Contains(r.stdout, "\n"+line+"\n") {
			t.Errorf("text report lacks %q:\n%s", line, r.stdout)
		}
		md, err := os.ReadFile(filepath.Join(dir, side+".md"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(md), `note=x\|y`) {
			t.Errorf("markdown report does not escape the label's |:\n%s", md)
		}
	}
	a := readReportFile(t, filepath.Join(dir, "a.json"))
	want := &report.Provenance{
		Tool: report.Tool{Version: "v0.0.0-test"}, Commit: sha, Branch: "main",
		CI:     &report.CI{Provider: "gitlab-ci", RunID: "9", RunURL: "https://gitlab.example/p/9", Job: "perf"},
		Labels: map[string]string{"team": "cache", "runner": "a", "note": "x|y"},
	}
	if a.Provenance != nil {
		a.Provenance.Tool.Revision, a.Provenance.Tool.Modified = "", false
	}
	if !reflect.DeepEqual(a.Provenance, want) || a.ToolVersion != "v0.0.0-test" {
		t.Errorf("provenance %+v; want %+v", a.Provenance, want)
	}

	// Merged: the shared commit, branch, run and team; not the runner.
	r := rustciPerf(t, dir, "merge", "a.json", "b.json", "--format", "json", "--output", "m.json")
	if r.code != 0 {
		t.Fatalf("merge: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	m := readReportFile(t, filepath.Join(dir, "m.json"))
	if p := m.Provenance; p == nil || p.Commit != sha || p.Branch != "main" || p.CI == nil ||
		!reflect.DeepEqual(p.Labels, map[string]string{"team": "cache", "note": "x|y"}) ||
		len(m.Sources) != 2 || m.Sources[1].Provenance == nil || m.Sources[1].Provenance.Labels["runner"] != "b" {
		t.Errorf("merged provenance %+v, sources %+v", m.Provenance, m.Sources)
	}
}

func TestMetaRefused(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ arg, want string }{
		{"team", `--meta: "team": want key=value`},
		{"bad key=x", `--meta: label "bad key": want a name`},
		{"commit=", "--meta: label commit: want a value"},
	} {
		r := rustciPerf(t, dir, "run", "cache-read", "--ops", "10", "-q", "--meta", tt.arg)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("--meta %q: exit %d, stderr %q; want 2 and one line with %q", tt.arg, r.code, r.stderr, tt.want)
		}
	}
}
