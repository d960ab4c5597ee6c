package report

import (
	"fmt"
	"strconv"
)

// windowsWords says how a threshold judged per window went, as every
// format but JSON words it: "1 of 2 windows of 1.00s held; worst at
// 1.00s", "19 of 20 windows of 5.00s held, 95% needed; worst in run 2 at
// 0s", "no whole window of 5.00s". "" for a threshold on the whole phase.
// repeated says the scenario ran several times (--count), so that the
// worst window's run is named.
func windowsWords(t Threshold, repeated bool) string {
	w := t.Windows
	if w == nil {
		return ""
	}
	length := Duration(float64(w.LengthNS))
	if w.Total == 0 {
		return "no whole window of " + length
	}
	s := fmt.Sprintf("%d of %s of %s held", w.Held, plural(w.Total, "window"), length)
	if w.SharePct < 100 {
		s += ", " + strconv.FormatFloat(w.SharePct, 'f', -1, 64) + "% needed"
	}
	if at := w.Worst; at != nil {
		s += "; worst " + windowAt(*at, repeated)
	}
	return s
}

// windowAt places a window in words: "at 1.00s", "in run 2 at 0s".
func windowAt(w WindowAt, repeated bool) string {
	at := "0s"
	if w.StartNS > 0 {
		at = Duration(float64(w.StartNS))
	}
	if repeated {
		return fmt.Sprintf("in run %d at %s", w.Run+1, at)
	}
	return "at " + at
}
