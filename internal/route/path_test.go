package route

import (
	"strings"
	"testing"
)

func TestNormalizePath(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		above    bool
	}{
		{"/", "/", false},
		{"", "/", false},
		{"/a/b", "/a/b", false},
		{"/a/b/", "/a/b/", false},
		{"//a//b", "/a/b", false},
		{"/a//", "/a/", false},
		{"/./a/./b", "/a/b", false},
		{"/a/.", "/a/", false},
		{"/a/b/..", "/a/", false},
		{"/a/b/../c", "/a/c", false},
		{"/a/../../b", "/b", true},
		{"/..", "/", true},
		{"/../admin/x", "/admin/x", true},
		{"/.hidden/..x/x..", "/.hidden/..x/x..", false},
		{"/a/.../b", "/a/.../b", false},
		{"*", "*", false},
	} {
		got, above := NormalizePath(tc.in)
		if got != tc.want || above != tc.above {
			t.Errorf("NormalizePath(%q) = %q, %v; want %q, %v", tc.in, got, above, tc.want, tc.above)
		}
	}
}

func TestNormalizePathDoesNotAllocateForCleanPaths(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { NormalizePath("/api/items/7") }); n != 0 {
		t.Errorf("%v allocations for a clean path", n)
	}
}

// FuzzNormalizePath: the result is a clean absolute path (no empty, "."
// or ".." segment), normalizing it again changes nothing, and a clean
// input comes back unchanged.
func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{"/", "/a/../b", "//x//", "/./.", "/..", "/a/b/../../../c", "/%2e", "*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got, _ := NormalizePath(p)
		if p != "" && p[0] != '/' {
			if got != p {
				t.Fatalf("NormalizePath(%q) = %q; a relative path must come back unchanged", p, got)
			}
			return
		}
		if got == "" || got[0] != '/' {
			t.Fatalf("NormalizePath(%q) = %q: not absolute", p, got)
		}
		inner := strings.TrimSuffix(got[1:], "/")
		if inner != "" {
			for _, seg := range strings.Split(inner, "/") {
				if seg == "" || seg == "." || seg == ".." {
					t.Fatalf("NormalizePath(%q) = %q keeps segment %q", p, got, seg)
				}
			}
		}
		if again, above := NormalizePath(got); again != got || above {
			t.Fatalf("NormalizePath(%q) = %q, but again %q (above root %v)", p, got, again, above)
		}
	})
}
