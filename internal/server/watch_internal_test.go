package server

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"edge/internal/config"
	"edge/internal/testutil"
)

// A file written after Build read it is noticed before the snapshot is
// swapped in, and the reload error says so (typed).
func TestChangedSinceRead(t *testing.T) {
	seed := testutil.NewSeed(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "edge.yaml")
	testutil.WriteFile(t, cfgPath, []byte("logs: {connection: \"off\", access: \"off\"}\ntrust_stores:\n  - {name: s, ca_certificates_bundle: "+seed.BundlePath+"}\n"+
		"listeners:\n  - {port: 0, protocol: HTTP, default_actions: [{type: fixed-response, fixed_response_config: {status_code: \"200\"}}]}\n"))
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := Build(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if f := snap.changedSinceRead(); f != "" {
		t.Fatalf("%s reported changed; nothing was written", f)
	}
	f, err := os.OpenFile(seed.BundlePath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("# appended\n")
	f.Close()
	if got := snap.changedSinceRead(); got != seed.BundlePath {
		t.Errorf("changedSinceRead = %q; want %s", got, seed.BundlePath)
	}
	if err := fileChanging(seed.BundlePath); !errors.Is(err, ErrFileChanging) {
		t.Errorf("%v is not ErrFileChanging", err)
	}
	before := stamps([]string{seed.BundlePath})
	f, _ = os.OpenFile(seed.BundlePath, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("# again\n")
	f.Close()
	if d := settleFor(stamps([]string{seed.BundlePath}), before, DefaultWatchDebounce); d != InPlaceSettle {
		t.Errorf("an in-place change settles for %v; want %v", d, InPlaceSettle)
	}
	tmp := seed.BundlePath + ".new"
	data, _ := os.ReadFile(seed.BundlePath)
	testutil.WriteFile(t, tmp, data)
	os.Rename(tmp, seed.BundlePath)
	if d := settleFor(stamps([]string{seed.BundlePath}), before, DefaultWatchDebounce); d != DefaultWatchDebounce {
		t.Errorf("a file replaced by rename settles for %v; want the debounce %v", d, DefaultWatchDebounce)
	}
}
