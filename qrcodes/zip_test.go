package qrcodes

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// plaqueIter returns a next func for WriteZip over plaques.
func plaqueIter(plaques []Plaque) func() (Plaque, bool, error) {
	i := 0
	return func() (Plaque, bool, error) {
		if i == len(plaques) {
			return Plaque{}, false, nil
		}
		i++
		return plaques[i-1], true, nil
	}
}

func TestWriteZip(t *testing.T) {
	var plaques []Plaque
	want := make(map[string]string) // entry name → URL
	for i := range 20 {
		code, err := NewCode()
		if err != nil {
			t.Fatal(err)
		}
		url := testPlaqueURL(t, code, i)
		plaques = append(plaques, Plaque{Code: code, URL: url})
		want[code+".png"] = url
	}

	var buf bytes.Buffer
	n, err := WriteZip(&buf, MinSize, plaqueIter(plaques))
	if err != nil || n != len(plaques) {
		t.Fatalf("WriteZip = %d, %v; want %d, nil", n, err, len(plaques))
	}

	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatalf("zip.NewReader: %v", err)
	}
	if got := len(zr.File); got != len(plaques) {
		t.Fatalf("archive has %d entries, want %d", got, len(plaques))
	}
	seen := make(map[string]bool)
	for _, f := range zr.File {
		url, ok := want[f.Name]
		if !ok || seen[f.Name] {
			t.Errorf("unexpected or repeated entry %q", f.Name)
			continue
		}
		seen[f.Name] = true
		if f.Method != zip.Store {
			t.Errorf("%s: method %d, want zip.Store", f.Name, f.Method)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("%s: open: %v", f.Name, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: read: %v", f.Name, err)
		}
		if got, _ := decodeQR(t, data); got != url {
			t.Errorf("%s decodes to %q, want %q", f.Name, got, url)
		}
	}
}

func TestWriteZipEmpty(t *testing.T) {
	var buf bytes.Buffer
	n, err := WriteZip(&buf, DefaultSize, plaqueIter(nil))
	if err != nil || n != 0 {
		t.Fatalf("WriteZip = %d, %v; want 0, nil", n, err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || len(zr.File) != 0 {
		t.Fatalf("empty archive: %v, %d entries; want a valid archive with none", err, len(zr.File))
	}
}

func TestWriteZipStopsAtFirstError(t *testing.T) {
	good := Plaque{Code: "K7M2Q9XW", URL: "https://example.com/q/1"}
	errNext := errors.New("database went away")
	tests := []struct {
		name    string
		size    int
		next    func() (Plaque, bool, error)
		wantN   int
		wantErr error // nil: any error
	}{
		{"next fails", DefaultSize, func() func() (Plaque, bool, error) {
			calls := 0
			return func() (Plaque, bool, error) {
				calls++
				if calls == 3 {
					return Plaque{}, false, errNext
				}
				return good, true, nil
			}
		}(), 2, errNext},
		{"invalid code", DefaultSize, plaqueIter([]Plaque{good, {Code: "../evil", URL: "x"}, good}), 1, nil},
		{"content too long", DefaultSize, plaqueIter([]Plaque{{Code: "K7M2Q9XW", URL: strings.Repeat("x", 5000)}, good}), 0, nil},
		{"invalid size", MaxSize + 1, plaqueIter([]Plaque{good}), 0, ErrInvalidSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			n, err := WriteZip(&buf, tt.size, tt.next)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if n != tt.wantN {
				t.Errorf("n = %d, want %d", n, tt.wantN)
			}
			// A failed archive must not look complete.
			if _, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len())); err == nil {
				t.Errorf("archive after an error opens cleanly; want it unfinished")
			}
		})
	}
}

// failWriter fails every write, as a client that hung up does.
type failWriter struct{}

var errHungUp = errors.New("client hung up")

func (failWriter) Write([]byte) (int, error) { return 0, errHungUp }

func TestWriteZipWriterFails(t *testing.T) {
	const limit = 1000
	calls := 0
	next := func() (Plaque, bool, error) {
		calls++
		return Plaque{Code: "K7M2Q9XW", URL: "https://example.com/q/1"}, calls < limit, nil
	}
	// archive/zip buffers its output, so the failure surfaces a few entries
	// in; what matters is that WriteZip then stops instead of rendering the
	// rest of the county for nobody.
	n, err := WriteZip(failWriter{}, MinSize, next)
	if !errors.Is(err, errHungUp) {
		t.Errorf("WriteZip err = %v, want %v", err, errHungUp)
	}
	if calls >= limit || calls != n+1 {
		t.Errorf("next called %d times for %d entries, want it to stop right after the writer failed", calls, n)
	}
}
