// Command vulngate reads govulncheck's JSON stream (-format json) on stdin,
// prints one line per vulnerability found, and exits 1 when our code calls
// or imports one: in a module of ours, or in the standard library of the
// Go release it was built with.
//
// Each vulnerability is told at the deepest level govulncheck found it:
// called (a trace reaches a vulnerable function), imported (a vulnerable
// package is linked, no call found) or required (only the module is in
// go.mod). The standard library's are fixed by building with the Go
// release that fixes them (the Makefile pins one: GOTOOLCHAIN), not by
// go.mod, and their lines say which. scripts/vulncheck.sh runs it; see
// README.md, Development.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

func main() {
	fail, err := gate(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "vulngate: %v\n", err)
		os.Exit(2)
	}
	if fail {
		os.Exit(1)
	}
}

// message is one object of govulncheck's stream; only the parts read here.
type message struct {
	Config *struct {
		DB             string `json:"db"`
		DBLastModified string `json:"db_last_modified"`
		GoVersion      string `json:"go_version"`
	} `json:"config"`
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Version  string `json:"version"`
			Package  string `json:"package"`
			Function string `json:"function"`
		} `json:"trace"`
	} `json:"finding"`
}

// Levels, deepest last.
const (
	required = iota + 1
	imported
	called
)

var levelNames = map[int]string{required: "required", imported: "imported", called: "called"}

type vuln struct {
	id, module, version, fixed string
	level                      int
}

// gate reads the stream from r, writes the summary to w, and reports
// whether a vulnerability is called or imported, the standard library's
// included.
func gate(r io.Reader, w io.Writer) (fail bool, err error) {
	vulns := map[string]*vuln{}
	dec := json.NewDecoder(r)
	sawConfig := false
	for {
		var m message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return false, fmt.Errorf("reading govulncheck's JSON: %w", err)
		}
		if m.Config != nil {
			sawConfig = true
			fmt.Fprintf(w, "govulncheck: %s, database %s (modified %s)\n", m.Config.GoVersion, m.Config.DB, m.Config.DBLastModified)
		}
		f := m.Finding
		if f == nil || len(f.Trace) == 0 {
			continue
		}
		t := f.Trace[0]
		level := required
		switch {
		case t.Function != "":
			level = called
		case t.Package != "":
			level = imported
		}
		v := vulns[f.OSV]
		if v == nil {
			v = &vuln{id: f.OSV, module: t.Module, version: t.Version, fixed: f.FixedVersion}
			vulns[f.OSV] = v
		}
		v.level = max(v.level, level)
	}
	if !sawConfig {
		return false, errors.New("no config message: is this govulncheck -format json?")
	}
	list := make([]*vuln, 0, len(vulns))
	for _, v := range vulns {
		list = append(list, v)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].level != list[j].level {
			return list[i].level > list[j].level
		}
		return list[i].id < list[j].id
	})
	var stdlib, ours int
	for _, v := range list {
		fixed := v.fixed
		if fixed == "" {
			fixed = "no fix yet"
		}
		verdict := "FAIL"
		switch {
		case v.module == "stdlib":
			verdict = "TOOLCHAIN"
			stdlib++
		case v.level == required:
			verdict = "note"
		default:
			ours++
		}
		fmt.Fprintf(w, "%-9s %s %-8s %s@%s, fixed in %s\n", verdict, v.id, levelNames[v.level], v.module, v.version, fixed)
	}
	if stdlib > 0 {
		fmt.Fprintf(w, "%d in the standard library: build with the Go release that fixes them (TOOLCHAIN lines above; the Makefile's GOTOOLCHAIN)\n", stdlib)
	}
	if ours > 0 {
		fmt.Fprintf(w, "%d in modules the code calls or imports: update them (go get module@fixed; go mod tidy)\n", ours)
	} else {
		fmt.Fprintln(w, "no vulnerability called or imported in a module of ours")
	}
	return ours > 0 || stdlib > 0, nil
}
