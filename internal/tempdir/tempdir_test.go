package tempdir

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// reopen undoes RemoveAll's closing of the registry, for the next test.
func reopen(t *testing.T) {
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		closed = false
	})
}

// full makes a directory with a file in it, as a store would leave it.
func full(t *testing.T) string {
	t.Helper()
	dir, err := Make("tempdir-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "000001.sst"), []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestMakeInTMPDIRAndRemove(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dir := full(t)
	if filepath.Dir(dir) != tmp {
		t.Errorf("Make made %s; want it in $TMPDIR %s", dir, tmp)
	}
	if err := Remove(dir); err != nil {
		t.Fatalf("Remove(%s) = %v", dir, err)
	}
	if exists(dir) {
		t.Errorf("%s still exists after Remove", dir)
	}
}

func TestRemoveAllRemovesWhatIsLeftAndCloses(t *testing.T) {
	reopen(t)
	t.Setenv("TMPDIR", t.TempDir())
	removed, kept1, kept2 := full(t), full(t), full(t)
	if err := Remove(removed); err != nil {
		t.Fatal(err)
	}
	if err := RemoveAll(); err != nil {
		t.Fatalf("RemoveAll() = %v", err)
	}
	for _, d := range []string{kept1, kept2} {
		if exists(d) {
			t.Errorf("%s still exists after RemoveAll", d)
		}
	}
	if d, err := Make("tempdir-test-"); !errors.Is(err, ErrClosed) {
		t.Errorf("Make after RemoveAll = (%q, %v); want ErrClosed", d, err)
	}
	// The owner of a directory RemoveAll took closes it later: no error.
	if err := Remove(kept1); err != nil {
		t.Errorf("Remove(%s) after RemoveAll = %v; want nil", kept1, err)
	}
}
