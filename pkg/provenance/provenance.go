// Package provenance says where a report came from: the rustci-perf binary
// that wrote it (its version from -ldflags, else from the module's build
// information, and the revision of the source it was built from), and the
// system under test's commit, branch and CI run, read from the variables
// GitHub Actions, GitLab CI, Jenkins and Buildkite set, then overridden by
// the user's labels (--meta key=value, meta: in a config file).
//
// A label named commit or branch sets that field; any other is kept as a
// label, the one place in a report that holds names of the user's choosing.
package provenance

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/rustci/rustci-perf/pkg/report"
)

// isStamp says whether v is a version stamped at build time with -ldflags
// "-X main.version=...": "dev" (an unstamped build's) and "" are not.
func isStamp(v string) bool { return v != "" && v != "dev" }

// Tool describes the running binary. stamped is the version set at build
// time, if any; without one, the version is the main module's from the
// build information (go install ...@v1.2.3 gives v1.2.3; a build in a
// clone gives a pseudo-version from its commit, +dirty when modified), and
// "dev" when there is none.
func Tool(stamped string) report.Tool {
	bi, _ := debug.ReadBuildInfo()
	return tool(stamped, bi)
}

func tool(stamped string, bi *debug.BuildInfo) report.Tool {
	t := report.Tool{Version: "dev"}
	if isStamp(stamped) {
		t.Version = stamped
	}
	if bi == nil {
		return t
	}
	if !isStamp(stamped) && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		t.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			t.Revision = s.Value
		case "vcs.modified":
			t.Modified = s.Value == "true"
		}
	}
	return t
}

// Env reads an environment variable: os.Getenv, or a map in tests.
type Env func(key string) string

// ci is one CI system: how to tell it runs, and where it keeps the commit,
// branch, run and job.
type ci struct {
	provider string
	detect   func(Env) bool
	commit   []string // the first set wins
	// headCommit, when set and it finds one, beats commit: the commit a
	// pull request's run measures.
	headCommit func(Env) string
	branch     []string
	runID      []string
	runURL     func(Env) string
	job        []string
}

// systems are the CI systems recognised, each as its documentation names
// its variables.
var systems = []ci{
	{
		// docs.github.com/actions/reference/variables-reference. On a
		// pull request, GITHUB_REF_NAME is "123/merge": the branch is
		// GITHUB_HEAD_REF.
		provider: "github-actions",
		detect:   func(e Env) bool { return e("GITHUB_ACTIONS") == "true" },
		commit:   []string{"GITHUB_SHA"},
		// On a pull request GITHUB_SHA is the merge commit GitHub made,
		// which no one pushed: the head's is in the event's payload.
		headCommit: githubHead,
		branch:     []string{"GITHUB_HEAD_REF", "GITHUB_REF_NAME"},
		runID:      []string{"GITHUB_RUN_ID"},
		runURL: func(e Env) string {
			if e("GITHUB_SERVER_URL") == "" || e("GITHUB_REPOSITORY") == "" || e("GITHUB_RUN_ID") == "" {
				return ""
			}
			return e("GITHUB_SERVER_URL") + "/" + e("GITHUB_REPOSITORY") + "/actions/runs/" + e("GITHUB_RUN_ID")
		},
		job: []string{"GITHUB_JOB"},
	},
	{
		// docs.gitlab.com/ci/variables/predefined_variables.
		provider: "gitlab-ci",
		detect:   func(e Env) bool { return e("GITLAB_CI") == "true" },
		commit:   []string{"CI_COMMIT_SHA"},
		branch:   []string{"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "CI_COMMIT_BRANCH", "CI_COMMIT_REF_NAME"},
		runID:    []string{"CI_PIPELINE_ID"},
		runURL:   func(e Env) string { return e("CI_PIPELINE_URL") },
		job:      []string{"CI_JOB_NAME"},
	},
	{
		// buildkite.com/docs/pipelines/environment-variables.
		provider: "buildkite",
		detect:   func(e Env) bool { return e("BUILDKITE") == "true" },
		commit:   []string{"BUILDKITE_COMMIT"},
		branch:   []string{"BUILDKITE_BRANCH"},
		runID:    []string{"BUILDKITE_BUILD_ID", "BUILDKITE_BUILD_NUMBER"},
		runURL:   func(e Env) string { return e("BUILDKITE_BUILD_URL") },
		job:      []string{"BUILDKITE_LABEL"},
	},
	{
		// Jenkins' own variables and its Git plugin's; GIT_BRANCH is
		// "origin/main" in a freestyle job, BRANCH_NAME "main" in a
		// multibranch pipeline, where a pull request's BRANCH_NAME is
		// "PR-12" and its branch CHANGE_BRANCH.
		provider: "jenkins",
		detect:   func(e Env) bool { return e("JENKINS_URL") != "" && e("BUILD_NUMBER") != "" },
		commit:   []string{"GIT_COMMIT"},
		branch:   []string{"CHANGE_BRANCH", "BRANCH_NAME", "GIT_BRANCH"},
		runID:    []string{"BUILD_NUMBER"},
		runURL:   func(e Env) string { return e("BUILD_URL") },
		job:      []string{"JOB_NAME"},
	},
}

// readFile reads the CI's event payload: os.ReadFile, or a map in tests.
var readFile = os.ReadFile

// githubHead is the head commit of the pull request a GitHub Actions run
// is for, from its event payload ("" for another event, or when it
// cannot be read).
func githubHead(e Env) string {
	switch e("GITHUB_EVENT_NAME") {
	case "pull_request", "pull_request_target":
	default:
		return ""
	}
	path := e("GITHUB_EVENT_PATH")
	if path == "" {
		return ""
	}
	b, err := readFile(path)
	if err != nil {
		return ""
	}
	var ev struct {
		PullRequest struct {
			Head struct {
				SHA string `json:"sha"`
			} `json:"head"`
		} `json:"pull_request"`
	}
	if json.Unmarshal(b, &ev) != nil {
		return ""
	}
	return ev.PullRequest.Head.SHA
}

// remoteless is a Git branch name as Jenkins' Git plugin may give it,
// "origin/main" or "refs/remotes/origin/main", as the branch: "main".
func remoteless(b string) string {
	for _, prefix := range []string{"refs/remotes/origin/", "refs/heads/", "origin/"} {
		if rest, ok := strings.CutPrefix(b, prefix); ok {
			return rest
		}
	}
	return b
}

func first(e Env, keys []string) string {
	for _, k := range keys {
		if v := strings.TrimSpace(e(k)); v != "" {
			return v
		}
	}
	return ""
}

// Of is a report's provenance: the binary's (Tool(stamped)), the commit,
// branch and run of the CI system env says the run is in, if any, then
// labels: commit and branch set those fields, the others are labels.
func Of(stamped string, env Env, labels Labels) *report.Provenance {
	p := &report.Provenance{Tool: Tool(stamped)}
	for _, s := range systems {
		if !s.detect(env) {
			continue
		}
		p.Commit, p.Branch = first(env, s.commit), first(env, s.branch)
		if s.headCommit != nil {
			if head := s.headCommit(env); head != "" {
				p.Commit = head
			}
		}
		if s.provider == "jenkins" {
			p.Branch = remoteless(p.Branch)
		}
		p.CI = &report.CI{Provider: s.provider, RunID: first(env, s.runID), RunURL: s.runURL(env), Job: first(env, s.job)}
		break
	}
	for k, v := range labels {
		switch k {
		case "commit":
			p.Commit = v
		case "branch":
			p.Branch = v
		default:
			if p.Labels == nil {
				p.Labels = map[string]string{}
			}
			p.Labels[k] = v
		}
	}
	return p
}

// Labels are the user's key=value pairs.
type Labels map[string]string

// keyPattern is what a label's key may be: a name, as the report's schema
// says.
var keyPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,63}$`)

// MaxValue is the longest label value, in bytes.
const MaxValue = 1024

// Set adds key=value, refusing a key that is not a name, a value too long
// or not text, and a key set twice.
func (l *Labels) Set(key, value string) error {
	if !keyPattern.MatchString(key) {
		return fmt.Errorf("label %q: want a name of letters, digits, _ . - (starting with a letter or _, at most 64)", key)
	}
	if len(value) > MaxValue {
		return fmt.Errorf("label %s: value of %d bytes: want at most %d", key, len(value), MaxValue)
	}
	if !validText(value) {
		return fmt.Errorf("label %s: value %q: want UTF-8 text without control characters", key, value)
	}
	if (key == "commit" || key == "branch") && value == "" {
		return fmt.Errorf("label %s: want a value", key)
	}
	if _, dup := (*l)[key]; dup {
		return fmt.Errorf("label %s given twice", key)
	}
	if *l == nil {
		*l = Labels{}
	}
	(*l)[key] = value
	return nil
}

func validText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// ParsePair reads "key=value" as --meta gives it.
func ParsePair(s string) (key, value string, err error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return "", "", fmt.Errorf("%q: want key=value", s)
	}
	return k, v, nil
}

// Strings returns l as key=value pairs, sorted by key.
func (l Labels) Strings() []string {
	out := make([]string, 0, len(l))
	for k, v := range l {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// Over returns l with upper's labels over it, key by key.
func (l Labels) Over(upper Labels) Labels {
	if len(l) == 0 && len(upper) == 0 {
		return nil
	}
	out := Labels{}
	for k, v := range l {
		out[k] = v
	}
	for k, v := range upper {
		out[k] = v
	}
	return out
}
