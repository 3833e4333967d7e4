package kept

import (
	"bytes"
	"runtime"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func newCache(maxBytes int) (*Cache[string, int], *prometheus.CounterVec) {
	counts := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kept_test_total", Help: "test"}, []string{"result"})
	return New[string, int](maxBytes, counts), counts
}

func TestKeptUnderItsStampOnly(t *testing.T) {
	c, counts := newCache(1 << 20)
	e, f, lead := c.Get("a", 1)
	if e != nil || f == nil || !lead {
		t.Fatalf("first get: %v %v %v, want to lead a flight", e, f, lead)
	}
	c.Land("a", 1, f, &Entry[int]{Parts: [][]byte{[]byte("x"), []byte("y")}})
	if e, _, _ := c.Get("a", 1); e == nil || !bytes.Equal(bytes.Join(e.Parts, nil), []byte("xy")) {
		t.Fatalf("same stamp: %v, want the kept entry", e)
	}
	if e, f, lead := c.Get("a", 2); e != nil || !lead {
		t.Fatalf("newer stamp: %v, lead %v; want a new render", e, lead)
	} else {
		c.Land("a", 2, f, nil) // not keepable: the old entry stays, but only for its stamp
	}
	if e, _, lead := c.Get("a", 2); e != nil || !lead {
		t.Fatalf("after a render that kept nothing: %v, lead %v", e, lead)
	}
	if got := testutil.ToFloat64(counts.WithLabelValues("hit")); got != 1 {
		t.Errorf("hits %v, want 1", got)
	}
}

func TestConcurrentReadersShareOneRender(t *testing.T) {
	c, counts := newCache(1 << 20)
	_, f, lead := c.Get("a", 7)
	if !lead {
		t.Fatal("first reader does not lead")
	}
	var wg sync.WaitGroup
	got := make([]*Entry[int], 8)
	for i := range got {
		_, g, lead := c.Get("a", 7)
		if lead || g != f {
			t.Fatalf("reader %d: lead %v, same flight %v", i, lead, g == f)
		}
		wg.Go(func() {
			got[i], _ = g.Wait(nil)
		})
	}
	want := &Entry[int]{Parts: [][]byte{[]byte("page")}}
	c.Land("a", 7, f, want)
	wg.Wait()
	for i, e := range got {
		if e != want {
			t.Errorf("reader %d got %v", i, e)
		}
	}
	if got := testutil.ToFloat64(counts.WithLabelValues("shared")); got != 8 {
		t.Errorf("shared %v, want 8", got)
	}
	// A reader whose client left stops waiting.
	_, f2, _ := c.Get("b", 1)
	_, g2, _ := c.Get("b", 1)
	gone := make(chan struct{})
	close(gone)
	if e, ok := g2.Wait(gone); e != nil || ok {
		t.Errorf("gone reader: %v %v", e, ok)
	}
	c.Land("b", 1, f2, nil)
}

func TestBoundedByBytes(t *testing.T) {
	c, _ := newCache(64 * 100) // entries of at most 100 bytes
	put := func(k string, n int) {
		_, f, lead := c.Get(k, 1)
		if !lead {
			t.Fatalf("%s: not leading", k)
		}
		c.Land(k, 1, f, &Entry[int]{Parts: [][]byte{make([]byte, n)}})
	}
	put("big", 101)
	if e, _, lead := c.Get("big", 1); e != nil || !lead {
		t.Fatal("an entry above 1/64 of the cache was kept")
	}
	for i := range 100 {
		put(string(rune('A'+i)), 100)
		if c.bytes > c.maxBytes {
			t.Fatalf("%d bytes kept, bound %d", c.bytes, c.maxBytes)
		}
	}
	if len(c.items) != 64 {
		t.Errorf("%d entries kept, want 64", len(c.items))
	}
	if e, _, _ := c.Get("A", 1); e != nil {
		t.Error("the least recently used entry is still kept")
	}
	if e, _, _ := c.Get(string(rune('A'+99)), 1); e == nil {
		t.Error("the newest entry was dropped")
	}
}

// TestLookupWaitsForTheLeader: Lookup leads the first render, hands a second
// reader the leader's entry once it lands, and gives up (ok false) when the
// waiter's done closes first.
func TestLookupWaitsForTheLeader(t *testing.T) {
	c, _ := newCache(1 << 20)
	e, f, lead, ok := c.Lookup("a", 1, nil)
	if e != nil || f == nil || !lead || !ok {
		t.Fatalf("first lookup: %v %v %v %v, want to lead", e, f, lead, ok)
	}
	gone := make(chan struct{})
	close(gone)
	if e, f2, lead, ok := c.Lookup("a", 1, gone); ok || e != nil || f2 != nil || lead {
		t.Fatalf("a waiter whose caller is gone: %v %v %v %v, want ok false", e, f2, lead, ok)
	}
	got := make(chan *Entry[int])
	go func() {
		e, _, _, _ := c.Lookup("a", 1, make(chan struct{}))
		got <- e
	}()
	for testutil.ToFloat64(c.counts.WithLabelValues("shared")) < 2 { // the waiter has found the flight
		runtime.Gosched()
	}
	c.Land("a", 1, f, &Entry[int]{Parts: [][]byte{[]byte("page")}})
	if e := <-got; e == nil || string(e.Parts[0]) != "page" {
		t.Fatalf("the waiter got %v, want the leader's entry", e)
	}
	if e, f, lead, ok := c.Lookup("a", 1, nil); e == nil || f != nil || lead || !ok {
		t.Fatalf("after landing: %v %v %v %v, want the kept entry", e, f, lead, ok)
	}
}
