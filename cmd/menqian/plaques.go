package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/qrcodes"
	"github.com/menqian/menqian/service"
)

const plaquesHelp = `plaques --county CODE [--road NAME|ID] --out FILE.zip [--size PIXELS]

Write a ZIP of plaque QR codes, one <merchant code>.png per active merchant of
the county (or of one of its roads), for a print shop. The codes encode
MENQIAN_PUBLIC_URL/q/<token>, so run it with the same MENQIAN_PUBLIC_URL and
MENQIAN_SECRET (or database) as the service. Progress goes to stderr; the file
appears only when it is complete.`

func cmdPlaques(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("plaques", plaquesHelp, stdout)
	county := fs.String("county", "", "county division code, e.g. 370303 (required)")
	road := fs.String("road", "", "one road of the county, by name or id (default: every road)")
	out := fs.String("out", "", "ZIP file to write (required)")
	size := fs.Int("size", qrcodes.DefaultSize, fmt.Sprintf("image width in pixels, %d to %d", qrcodes.MinSize, qrcodes.MaxSize))
	if err := fs.Parse(args); err != nil {
		return err
	}
	var problems []string
	if fs.NArg() > 0 {
		problems = append(problems, "unexpected arguments: "+strings.Join(fs.Args(), " "))
	}
	if *county == "" {
		problems = append(problems, "--county is required")
	}
	if *out == "" {
		problems = append(problems, "--out is required")
	}
	if *size < qrcodes.MinSize || *size > qrcodes.MaxSize {
		problems = append(problems, fmt.Sprintf("--size must be between %d and %d", qrcodes.MinSize, qrcodes.MaxSize))
	}
	if len(problems) > 0 {
		return errors.New("plaques: " + strings.Join(problems, "; ") + ` (see "menqian plaques -h")`)
	}

	a, err := openApp(ctx, getenv, stderr, false)
	if err != nil {
		return err
	}
	defer a.Close()
	set, err := plaqueSetOf(ctx, a, *county, *road)
	if err != nil {
		return err
	}

	start := time.Now()
	bar := newProgressBar(stderr, set.Total)
	n, written, err := writeFileAtomic(*out, func(w io.Writer) (int, error) {
		return a.svc.WritePlaqueZip(ctx, set, w, *size, bar.update)
	})
	bar.finish()
	if err != nil {
		return fmt.Errorf("plaques: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %d plaques (%d px) to %s: %.1f MiB in %s\n", n, *size, *out,
		float64(written)/(1<<20), time.Since(start).Round(10*time.Millisecond))
	return nil
}

// plaqueSetOf finds the county by code and, when given, its road by name,
// else by id.
func plaqueSetOf(ctx context.Context, a *app, countyCode, road string) (service.PlaqueSet, error) {
	// The operator at the console has the city office's reach.
	plaquesActor := service.Actor{Role: service.RoleCityAdmin, Username: "menqian plaques"}
	c, err := a.db.CountyByCode(ctx, countyCode)
	if errors.Is(err, models.ErrNotFound) {
		return service.PlaqueSet{}, fmt.Errorf("plaques: no county with code %q", countyCode)
	}
	if err != nil {
		return service.PlaqueSet{}, err
	}
	if road == "" {
		return a.svc.CountyPlaques(ctx, plaquesActor, c.ID)
	}
	r, err := a.db.RoadByName(ctx, c.ID, road)
	if errors.Is(err, models.ErrNotFound) {
		if id, perr := strconv.ParseInt(road, 10, 64); perr == nil {
			if r, err = a.db.RoadByID(ctx, id); err == nil && r.CountyID != c.ID {
				err = models.ErrNotFound
			}
		}
	}
	if errors.Is(err, models.ErrNotFound) {
		return service.PlaqueSet{}, fmt.Errorf("plaques: county %s has no road named or numbered %q", countyCode, road)
	}
	if err != nil {
		return service.PlaqueSet{}, err
	}
	return a.svc.RoadPlaques(ctx, plaquesActor, r.ID)
}

// writeFileAtomic writes path through a temporary file in the same directory
// that is renamed into place only after write succeeded and the data is on
// disk, so an interrupted run never leaves a short archive under the name.
func writeFileAtomic(path string, write func(io.Writer) (int, error)) (n int, size int64, err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return 0, 0, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	cw := &countingWriter{w: tmp}
	bw := bufio.NewWriterSize(cw, 256<<10)
	if n, err = write(bw); err != nil {
		return n, 0, err
	}
	if err = bw.Flush(); err != nil {
		return n, 0, err
	}
	if err = tmp.Sync(); err != nil {
		return n, 0, err
	}
	if err = tmp.Close(); err != nil {
		return n, 0, err
	}
	return n, cw.n, os.Rename(tmp.Name(), path)
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// progressBar draws `\r[#####.....] 1234/10000` on a terminal line, at most
// ten times a second and always for the last entry.
type progressBar struct {
	w     io.Writer
	total int64
	last  time.Time
	done  int // as last drawn
	drawn bool
}

const progressWidth = 30

func newProgressBar(w io.Writer, total int64) *progressBar { return &progressBar{w: w, total: total} }

func (p *progressBar) update(done int) {
	now := time.Now()
	if p.drawn && (done == p.done || now.Sub(p.last) < 100*time.Millisecond && int64(done) < p.total) {
		return
	}
	p.last = now
	p.draw(done)
}

func (p *progressBar) draw(done int) {
	filled := progressWidth
	if p.total > 0 {
		filled = int(min(int64(done), p.total) * progressWidth / p.total)
	}
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d", strings.Repeat("#", filled), strings.Repeat(".", progressWidth-filled), done, p.total)
	p.drawn, p.done = true, done
}

// finish ends the bar's line.
func (p *progressBar) finish() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
