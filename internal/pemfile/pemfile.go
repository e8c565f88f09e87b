// Package pemfile recognises the common ways a file that should hold PEM
// blocks (a CA bundle, a CRL, a certificate chain) goes wrong, so every
// loader reports each mistake once, names the file and gives the command
// that fixes it (for an S3 object, with the `aws s3 cp` steps around it):
//
//   - binary DER where PEM is expected (what AWS Private CA publishes and
//     Windows exports as .cer);
//   - a byte-order mark (UTF-8 from Notepad, UTF-16 from PowerShell);
//   - text outside the PEM blocks, such as `openssl x509 -text` output;
//   - trailing spaces or tabs on a PEM line.
//
// Scan only finds; what is fatal is the caller's choice (ALB's bundle
// format refuses all four, while OpenSSL and Go read CRL and certificate
// files with surrounding text or trailing spaces).
package pemfile

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Kind is a kind of mistake.
type Kind uint8

// The mistakes Scan recognises.
const (
	// DER: the file is binary DER, not PEM text.
	DER Kind = iota + 1
	// ByteOrderMark: the file starts with a UTF-8 or UTF-16 byte-order mark.
	ByteOrderMark
	// TextOutsideBlocks: lines outside every PEM block that are neither
	// blank nor '#' comments.
	TextOutsideBlocks
	// TrailingWhitespace: a PEM line (BEGIN, END or base64) ends in
	// spaces or tabs.
	TrailingWhitespace
)

// Content is what a file holds, or should hold.
type Content uint8

// Contents a loader expects.
const (
	Unknown Content = iota
	Certificate
	CRL
)

func (c Content) String() string {
	switch c {
	case Certificate:
		return "certificate"
	case CRL:
		return "CRL"
	}
	return "DER data"
}

// Range is an inclusive range of 1-based line numbers.
type Range struct{ First, Last int }

func (r Range) String() string {
	if r.First == r.Last {
		return fmt.Sprint(r.First)
	}
	return fmt.Sprintf("%d-%d", r.First, r.Last)
}

// Mistake is one mistake found in a file.
type Mistake struct {
	Kind Kind
	// Lines are the lines concerned, for TextOutsideBlocks and
	// TrailingWhitespace; nil otherwise.
	Lines []Range
	// Holds is, for DER, what the DER encodes when Scan recognises it.
	Holds Content
	// UTF16 is set for a ByteOrderMark of UTF-16 text.
	UTF16 bool
	// Dump is set for TextOutsideBlocks that looks like `openssl x509
	// -text` or `openssl crl -text` output.
	Dump bool
}

// Source is where checked data came from, so that the commands in
// messages act on it: a local file, an S3 object (fetched, fixed and put
// back with the aws CLI), or neither (data uploaded without a name,
// written FILE in commands).
type Source struct {
	// File is a local path as the user gave it.
	File string
	// Bucket and Key name an S3 object; File is unused when Bucket is set.
	Bucket, Key string
}

// File is the Source of a local file ("" for data without a file).
func File(path string) Source { return Source{File: path} }

// Object is the Source of the S3 object bucket/key.
func Object(bucket, key string) Source { return Source{Bucket: bucket, Key: key} }

// IsObject reports whether s is an S3 object.
func (s Source) IsObject() bool { return s.Bucket != "" }

// String is s3://BUCKET/KEY for an object, else the file ("" without one).
func (s Source) String() string {
	if s.IsObject() {
		return "s3://" + s.Bucket + "/" + s.Key
	}
	return s.File
}

// what is "file" or "object", for messages.
func (s Source) what() string {
	if s.IsObject() {
		return "object"
	}
	return "file"
}

// Local is the file name commands work on: the file itself (FILE without
// one), or for an object the last element of its key (downloaded to the
// working directory).
func (s Source) Local() string {
	switch {
	case s.IsObject():
		if b := path.Base(s.Key); b != "." && b != "/" && b != ".." {
			return b
		}
		return "object"
	case s.File == "":
		return "FILE"
	}
	return s.File
}

// Convert renders a fix that writes a converted copy: cmd(in, out) on a
// local file; for an object the download, cmd and the upload of the copy
// next to the object (KEY.pem), which is then the one to use.
func (s Source) Convert(cmd func(in, out string) string) string {
	in := s.Local()
	out := pemName(in)
	if !s.IsObject() {
		return "`" + cmd(Quote(in), Quote(out)) + "`"
	}
	dst := Object(s.Bucket, pemName(s.Key)).String()
	return fmt.Sprintf("`aws s3 cp %s %s && %s && aws s3 cp %s %s`, then use %s",
		Quote(s.String()), Quote(in), cmd(Quote(in), Quote(out)), Quote(out), Quote(dst), dst)
}

// Edit renders a fix that changes the file in place: cmd(f); for an object
// the download, cmd and the upload over the object (a new version in a
// versioned bucket).
func (s Source) Edit(cmd func(f string) string) string {
	f := s.Local()
	if !s.IsObject() {
		return "`" + cmd(Quote(f)) + "`"
	}
	return fmt.Sprintf("`aws s3 cp %s %s && %s && aws s3 cp %s %s`", Quote(s.String()), Quote(f), cmd(Quote(f)), Quote(f), Quote(s.String()))
}

// Error is a Mistake in data from Source that should hold Want. Its
// message says what the data is and the commands that fix it, for a
// local file or an S3 object.
type Error struct {
	Source
	Want Content
	Mistake
}

// LineText renders the lines of m as "line 3" or "lines 1-40, 52-90".
func (m Mistake) LineText() string {
	n := 0
	parts := make([]string, len(m.Lines))
	for i, r := range m.Lines {
		parts[i] = r.String()
		n += r.Last - r.First + 1
	}
	if n == 1 {
		return "line " + parts[0]
	}
	return "lines " + strings.Join(parts, ", ")
}

func (e *Error) Error() string {
	tool := "x509"
	if e.Want == CRL {
		tool = "crl"
	}
	it := e.what()
	switch e.Kind {
	case DER:
		what := "binary DER"
		if e.Holds != Unknown {
			what = "a DER " + e.Holds.String()
		}
		if e.Holds != Unknown && e.Want != Unknown && e.Holds != e.Want {
			return fmt.Sprintf("the %s is %s, not a %s in PEM form", it, what, e.Want)
		}
		return fmt.Sprintf("the %s is %s; ALB takes PEM only: convert it with %s", it, what, e.Convert(func(in, out string) string {
			return fmt.Sprintf("openssl %s -inform DER -in %s -out %s", tool, in, out)
		}))
	case ByteOrderMark:
		if e.UTF16 {
			return fmt.Sprintf("the %s is UTF-16 text (as PowerShell writes it); PEM must be ASCII: convert it with %s", it, e.Convert(func(in, out string) string {
				return fmt.Sprintf("iconv -f UTF-16 -t ASCII %s > %s", in, out)
			}))
		}
		return fmt.Sprintf("the %s starts with a UTF-8 byte-order mark, which hides the first PEM block; remove it with %s", it, e.Edit(func(f string) string {
			return fmt.Sprintf("sed -i '1s/^\\xEF\\xBB\\xBF//' %s", f)
		}))
	case TextOutsideBlocks:
		what := "text outside a PEM block"
		if e.Dump {
			what += fmt.Sprintf(" (`openssl %s -text` output)", tool)
		}
		return fmt.Sprintf("%s: %s; ALB allows only PEM blocks and '#' comments: keep the PEM blocks with %s", e.LineText(), what, e.Convert(func(in, out string) string {
			return fmt.Sprintf("sed -n '/^-----BEGIN/,/^-----END/p' %s > %s", in, out)
		}))
	case TrailingWhitespace:
		return fmt.Sprintf("%s: trailing spaces or tabs on a PEM line; remove them with %s", e.LineText(), e.Edit(func(f string) string {
			return fmt.Sprintf("sed -i 's/[[:space:]]*$//' %s", f)
		}))
	}
	return "unrecognised PEM file mistake"
}

// pemName is where a conversion of f is written.
func pemName(f string) string { return f + ".pem" }

// Quote quotes s for a POSIX shell when it needs quoting, for the
// commands that messages print.
func Quote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@%+=,", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Scan returns the mistakes in data, in the order of Kind. A DER file or a
// byte-order mark is reported alone: the rest of the file cannot be read
// as lines of PEM then. Lines starting with '#' and blank lines are not
// text outside a block (bundle comments and blank lines have their own
// rules). Scan never fails; nil means no mistake.
func Scan(data []byte) []Mistake {
	if len(data) == 0 {
		return nil
	}
	if isDER(data) {
		return []Mistake{{Kind: DER, Holds: derContent(data)}}
	}
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return []Mistake{{Kind: ByteOrderMark}}
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return []Mistake{{Kind: ByteOrderMark, UTF16: true}}
	}
	var text, trailing ranges
	dump := false
	inBlock := false
	end := ""
	n := 0
	for len(data) > 0 {
		n++
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		trimmed := bytes.TrimRight(line, " \t")
		switch {
		case inBlock:
			if len(trimmed) != len(line) && len(trimmed) > 0 {
				trailing.add(n)
			}
			if string(trimmed) == end {
				inBlock = false
			}
		case bytes.HasPrefix(trimmed, []byte("-----BEGIN ")) && bytes.HasSuffix(trimmed, []byte("-----")):
			if len(trimmed) != len(line) {
				trailing.add(n)
			}
			inBlock = true
			end = "-----END " + string(trimmed[len("-----BEGIN "):])
		case len(bytes.TrimSpace(line)) == 0 || line[0] == '#':
		default:
			text.add(n)
			if bytes.HasPrefix(line, []byte("Certificate:")) || bytes.HasPrefix(line, []byte("Certificate Revocation List")) {
				dump = true
			}
		}
	}
	var out []Mistake
	if len(text) > 0 {
		out = append(out, Mistake{Kind: TextOutsideBlocks, Lines: text, Dump: dump})
	}
	if len(trailing) > 0 {
		out = append(out, Mistake{Kind: TrailingWhitespace, Lines: trailing})
	}
	return out
}

// ranges collects line numbers, merging consecutive ones.
type ranges []Range

func (r *ranges) add(n int) {
	if k := len(*r); k > 0 && (*r)[k-1].Last == n-1 {
		(*r)[k-1].Last = n
		return
	}
	*r = append(*r, Range{n, n})
}

// isDER reports whether data is one DER SEQUENCE (optionally followed by
// whitespace), or at least starts like one and is not text.
func isDER(data []byte) bool {
	if data[0] != 0x30 {
		return false
	}
	s := cryptobyte.String(data)
	var elem cryptobyte.String
	if s.ReadASN1Element(&elem, cbasn1.SEQUENCE) && len(bytes.TrimSpace(s)) == 0 {
		return true
	}
	// A truncated DER file: binary bytes early on.
	head := data[:min(len(data), 64)]
	return bytes.ContainsFunc(head, func(r rune) bool { return r == 0 || r == 0xFFFD || r < 0x09 })
}

// derContent recognises a DER certificate or CRL by the shape of its
// to-be-signed part: a certificate's starts with a [0] version or an
// INTEGER serial then the signature algorithm, issuer and a validity
// SEQUENCE; a CRL's with an optional INTEGER version, the algorithm, the
// issuer and a time.
func derContent(data []byte) Content {
	s := cryptobyte.String(data)
	var outer, tbs cryptobyte.String
	if !s.ReadASN1(&outer, cbasn1.SEQUENCE) || !outer.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return Unknown
	}
	if tbs.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific().Constructed()) {
		return Certificate
	}
	if tbs.PeekASN1Tag(cbasn1.INTEGER) && !tbs.SkipASN1(cbasn1.INTEGER) {
		return Unknown
	}
	if !tbs.SkipASN1(cbasn1.SEQUENCE) || !tbs.SkipASN1(cbasn1.SEQUENCE) {
		return Unknown
	}
	switch {
	case tbs.PeekASN1Tag(cbasn1.UTCTime), tbs.PeekASN1Tag(cbasn1.GeneralizedTime):
		return CRL
	case tbs.PeekASN1Tag(cbasn1.SEQUENCE):
		return Certificate
	}
	return Unknown
}

// Check scans data from src that should hold want and returns an *Error
// for the first mistake of the given kinds, or nil.
func Check(src Source, data []byte, want Content, kinds ...Kind) error {
	for _, m := range Scan(data) {
		for _, k := range kinds {
			if m.Kind == k {
				return &Error{Source: src, Want: want, Mistake: m}
			}
		}
	}
	return nil
}
