package provenance

import (
	"os"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/rustci/rustci-perf/pkg/report"
)

func env(m map[string]string) Env { return func(k string) string { return m[k] } }

func TestOfCI(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name string
		env  map[string]string
		want report.Provenance
	}{
		// Not in CI: nothing but the tool.
		{"none", map[string]string{"CI": "true"}, report.Provenance{}},
		// A push to main.
		{"github push", map[string]string{
			"GITHUB_ACTIONS": "true", "GITHUB_SHA": sha, "GITHUB_REF_NAME": "main", "GITHUB_RUN_ID": "42",
			"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r", "GITHUB_JOB": "perf",
		}, report.Provenance{Commit: sha, Branch: "main", CI: &report.CI{Provider: "github-actions", RunID: "42", RunURL: "https://github.com/o/r/actions/runs/42", Job: "perf"}}},
		// A pull request: GITHUB_REF_NAME is "7/merge", the branch is the head's.
		{"github pull request", map[string]string{
			"GITHUB_ACTIONS": "true", "GITHUB_SHA": sha, "GITHUB_REF_NAME": "7/merge", "GITHUB_HEAD_REF": "feature",
		}, report.Provenance{Commit: sha, Branch: "feature", CI: &report.CI{Provider: "github-actions"}}},
		// A pull request's run: the head commit from the event's payload,
		// not GitHub's merge commit.
		{"github pull request head", map[string]string{
			"GITHUB_ACTIONS": "true", "GITHUB_SHA": sha, "GITHUB_HEAD_REF": "feature",
			"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": "event.json",
		}, report.Provenance{Commit: "feedfacefeedfacefeedfacefeedfacefeedface", Branch: "feature", CI: &report.CI{Provider: "github-actions"}}},
		// A payload that cannot be read: GITHUB_SHA.
		{"github pull request no payload", map[string]string{
			"GITHUB_ACTIONS": "true", "GITHUB_SHA": sha, "GITHUB_HEAD_REF": "feature",
			"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": "missing.json",
		}, report.Provenance{Commit: sha, Branch: "feature", CI: &report.CI{Provider: "github-actions"}}},
		// A multibranch pipeline's pull request: CHANGE_BRANCH, not PR-12.
		{"jenkins pull request", map[string]string{
			"JENKINS_URL": "https://ci/", "BUILD_NUMBER": "3", "BRANCH_NAME": "PR-12", "CHANGE_BRANCH": "fix/x",
		}, report.Provenance{Branch: "fix/x", CI: &report.CI{Provider: "jenkins", RunID: "3"}}},
		{"jenkins refs", map[string]string{
			"JENKINS_URL": "https://ci/", "BUILD_NUMBER": "4", "GIT_BRANCH": "refs/remotes/origin/feature/y",
		}, report.Provenance{Branch: "feature/y", CI: &report.CI{Provider: "jenkins", RunID: "4"}}},
		{"gitlab", map[string]string{
			"GITLAB_CI": "true", "CI_COMMIT_SHA": sha, "CI_COMMIT_REF_NAME": "main", "CI_PIPELINE_ID": "9",
			"CI_PIPELINE_URL": "https://gitlab.com/o/r/-/pipelines/9", "CI_JOB_NAME": "bench",
		}, report.Provenance{Commit: sha, Branch: "main", CI: &report.CI{Provider: "gitlab-ci", RunID: "9", RunURL: "https://gitlab.com/o/r/-/pipelines/9", Job: "bench"}}},
		// A merge request pipeline names the source branch.
		{"gitlab merge request", map[string]string{
			"GITLAB_CI": "true", "CI_COMMIT_REF_NAME": "refs/merge-requests/3/head", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "fix",
		}, report.Provenance{Branch: "fix", CI: &report.CI{Provider: "gitlab-ci"}}},
		{"buildkite", map[string]string{
			"BUILDKITE": "true", "BUILDKITE_COMMIT": sha, "BUILDKITE_BRANCH": "main", "BUILDKITE_BUILD_ID": "uuid",
			"BUILDKITE_BUILD_NUMBER": "5", "BUILDKITE_BUILD_URL": "https://buildkite.com/o/p/builds/5", "BUILDKITE_LABEL": ":go: perf",
		}, report.Provenance{Commit: sha, Branch: "main", CI: &report.CI{Provider: "buildkite", RunID: "uuid", RunURL: "https://buildkite.com/o/p/builds/5", Job: ":go: perf"}}},
		// A freestyle job: the Git plugin's GIT_BRANCH is origin/main.
		{"jenkins", map[string]string{
			"JENKINS_URL": "https://ci/", "BUILD_NUMBER": "77", "GIT_COMMIT": sha, "GIT_BRANCH": "origin/main",
			"BUILD_URL": "https://ci/job/perf/77/", "JOB_NAME": "perf",
		}, report.Provenance{Commit: sha, Branch: "main", CI: &report.CI{Provider: "jenkins", RunID: "77", RunURL: "https://ci/job/perf/77/", Job: "perf"}}},
	}
	readFile = func(name string) ([]byte, error) {
		if name == "event.json" {
			return []byte(`{"action": "synchronize", "pull_request": {"head": {"sha": "feedfacefeedfacefeedfacefeedfacefeedface", "ref": "feature"}}}`), nil
		}
		return nil, os.ErrNotExist
	}
	t.Cleanup(func() { readFile = os.ReadFile })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Of("v1.0.0", env(tt.env), nil)
			tt.want.Tool = report.Tool{Version: "v1.0.0"}
			got.Tool.Revision, got.Tool.Modified = "", false // the test binary's own
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("Of(%v) = %+v (ci %+v); want %+v (ci %+v)", tt.env, *got, got.CI, tt.want, tt.want.CI)
			}
		})
	}
}

func TestOfLabels(t *testing.T) {
	// commit and branch given by the user beat the CI's; others are labels.
	e := env(map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_SHA": "aaa", "GITHUB_REF_NAME": "main"})
	got := Of("", e, Labels{"commit": "bbb", "team": "cache"})
	if got.Commit != "bbb" || got.Branch != "main" || !reflect.DeepEqual(got.Labels, map[string]string{"team": "cache"}) || got.Tool.Version == "" {
		t.Errorf("Of with labels = %+v", got)
	}
}

func TestTool(t *testing.T) {
	bi := func(version string, settings ...debug.BuildSetting) *debug.BuildInfo {
		b := &debug.BuildInfo{Settings: settings}
		b.Main.Version = version
		return b
	}
	rev := debug.BuildSetting{Key: "vcs.revision", Value: "abc"}
	mod := debug.BuildSetting{Key: "vcs.modified", Value: "true"}
	tests := []struct {
		stamped string
		bi      *debug.BuildInfo
		want    report.Tool
	}{
		// Stamped by ldflags: the stamp, and the revision when known.
		{"v1.2.3", bi("(devel)", rev), report.Tool{Version: "v1.2.3", Revision: "abc"}},
		// go install ...@v1.2.3: the module's version.
		{"dev", bi("v1.2.3"), report.Tool{Version: "v1.2.3"}},
		// go build in a modified clone: Go's pseudo-version, and so.
		{"dev", bi("v0.0.0-20261127092652-3ee614a78bae+dirty", rev, mod), report.Tool{Version: "v0.0.0-20261127092652-3ee614a78bae+dirty", Revision: "abc", Modified: true}},
		// go build with -buildvcs=false: nothing known.
		{"dev", bi("(devel)"), report.Tool{Version: "dev"}},
		{"", nil, report.Tool{Version: "dev"}},
	}
	for _, tt := range tests {
		if got := tool(tt.stamped, tt.bi); got != tt.want {
			t.Errorf("tool(%q, %+v) = %+v; want %+v", tt.stamped, tt.bi, got, tt.want)
		}
	}
}

func TestLabelsSet(t *testing.T) {
	tests := []struct {
		key, value string
		err        string // "" when accepted
	}{
		{"team", "cache", ""},
		{"build.id", "", ""},
		{"_x-1", "α β", ""},
		{"1team", "x", "want a name"},
		{"bad key", "x", "want a name"},
		{"", "x", "want a name"},
		{strings.Repeat("k", 65), "x", "want a name"},
		{"v", strings.Repeat("x", MaxValue+1), "want at most 1024"},
		{"v", "a\nb", "without control characters"},
		{"v", "\xff", "UTF-8"},
		{"commit", "", "want a value"},
	}
	for _, tt := range tests {
		var l Labels
		err := l.Set(tt.key, tt.value)
		if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("Set(%q, %q) = %v; want error %q", tt.key, tt.value, err, tt.err)
		}
	}
	var l Labels
	if err := l.Set("a", "1"); err != nil {
		t.Fatal(err)
	}
	if err := l.Set("a", "2"); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("a key set twice: %v", err)
	}
}

// FuzzParsePair: whatever --meta is given, it parses or errors, and what
// is accepted is a key the report's schema allows with a value of text.
func FuzzParsePair(f *testing.F) {
	for _, s := range []string{"team=cache", "a==b", "=x", "x=", "k=\x00", "commit=abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, v, err := ParsePair(s)
		if err != nil {
			return
		}
		var l Labels
		if err := l.Set(k, v); err != nil {
			return
		}
		if !keyPattern.MatchString(k) || len(v) > MaxValue || !validText(v) || l[k] != v {
			t.Fatalf("accepted %q as %q=%q", s, k, v)
		}
	})
}
