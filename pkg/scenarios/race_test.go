//go:build race

package scenarios

// raceEnabled: under the race detector sync.Pool drops items at random,
// so pooled buffers are made again and allocation counts mean nothing.
const raceEnabled = true
