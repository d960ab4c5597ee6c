// Package configs embeds the default configuration, so the binary runs with
// no files around it: the defaults, and what changes in them when L2
// (Redis) is in the cache stack.
package configs

import _ "embed"

// Default is configs/default.yaml.
//
//go:embed default.yaml
var Default []byte

// StackL2 is configs/stack-l2.yaml: laid over Default, under a user's
// file, when the cache stack has L2.
//
//go:embed stack-l2.yaml
var StackL2 []byte
