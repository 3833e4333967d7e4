package policy

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// shanghai builds a wall-clock instant in Asia/Shanghai, the default policy zone.
func shanghai(t *testing.T, year int, month time.Month, day, hour, min, sec int) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return time.Date(year, month, day, hour, min, sec, 0, loc)
}

func TestParseCycle(t *testing.T) {
	tests := []struct {
		in      string
		want    Cycle
		wantErr bool
	}{
		{"2026-11", Cycle{2026, time.November}, false},
		{"2026-01", Cycle{2026, time.January}, false},
		{"2026-12", Cycle{2026, time.December}, false},
		{"0001-01", Cycle{1, time.January}, false},
		{"2026-1", Cycle{}, true},
		{"2026-13", Cycle{}, true},
		{"2026-00", Cycle{}, true},
		{"0000-05", Cycle{}, true},
		{"26-11", Cycle{}, true},
		{"2026/11", Cycle{}, true},
		{"2026-+1", Cycle{}, true},
		{"+026-11", Cycle{}, true},
		{"2026-11-01", Cycle{}, true},
		{" 2026-11", Cycle{}, true},
		{"abcd-ef", Cycle{}, true},
		{"", Cycle{}, true},
	}
	for _, tt := range tests {
		got, err := ParseCycle(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseCycle(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil && got.String() != tt.in {
			t.Errorf("ParseCycle(%q).String() = %q", tt.in, got.String())
		}
	}
}

func TestCycleArithmetic(t *testing.T) {
	nov := Cycle{2026, time.November}
	tests := []struct {
		name string
		got  Cycle
		want Cycle
	}{
		{"add 0", nov.Add(0), nov},
		{"add 1", nov.Add(1), Cycle{2026, time.December}},
		{"add 2 wraps year", nov.Add(2), Cycle{2027, time.January}},
		{"add 14", nov.Add(14), Cycle{2028, time.January}},
		{"add -11", nov.Add(-11), Cycle{2025, time.December}},
		{"add -10", nov.Add(-10), Cycle{2026, time.January}},
		{"add -23", nov.Add(-23), Cycle{2024, time.December}},
		{"next of December", Cycle{2026, time.December}.Next(), Cycle{2027, time.January}},
		{"prev of January", Cycle{2027, time.January}.Prev(), Cycle{2026, time.December}},
		{"from index", CycleFromIndex(nov.Index()), nov},
		{"from negative index", CycleFromIndex(-1), Cycle{-1, time.December}},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if got, want := nov.Index(), 2026*12+10; got != want {
		t.Errorf("Index() = %d, want %d", got, want)
	}
	if got, want := (Cycle{2027, time.February}).Index()-(Cycle{2026, time.December}).Index(), 2; got != want {
		t.Errorf("Feb 2027 - Dec 2026 = %d, want %d", got, want)
	}
	for _, tt := range []struct {
		a, b Cycle
		want bool
	}{
		{Cycle{2026, time.December}, Cycle{2027, time.January}, true},
		{Cycle{2027, time.January}, Cycle{2026, time.December}, false},
		{nov, nov, false},
		{Cycle{2025, time.December}, Cycle{2026, time.January}, true},
	} {
		if got := tt.a.Before(tt.b); got != tt.want {
			t.Errorf("%v.Before(%v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestCycleJSON(t *testing.T) {
	data, err := json.Marshal(map[string]Cycle{"c": {2026, time.March}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(data), `{"c":"2026-03"}`; got != want {
		t.Errorf("json = %s, want %s", got, want)
	}
	var c Cycle
	if err := json.Unmarshal([]byte(`"2027-01"`), &c); err != nil || c != (Cycle{2027, time.January}) {
		t.Errorf("Unmarshal = %v, %v; want 2027-01", c, err)
	}
	if err := json.Unmarshal([]byte(`"2027-1"`), &c); err == nil {
		t.Errorf("Unmarshal(2027-1) accepted")
	}
}

func TestCycleOf(t *testing.T) {
	p := Default()
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		at   time.Time
		want string
	}{
		// Midnight in Shanghai is 16:00 UTC the day before: the UTC month is not the cycle.
		{utc("2026-10-31T15:59:59Z"), "2026-10"},
		{utc("2026-10-31T16:00:00Z"), "2026-11"},
		{utc("2026-12-31T16:00:00Z"), "2027-01"},
		{utc("2026-12-31T15:59:59.999Z"), "2026-12"},
		{shanghai(t, 2026, time.November, 1, 0, 0, 0), "2026-11"},
		{shanghai(t, 2026, time.October, 31, 23, 59, 59), "2026-10"},
	}
	for _, tt := range tests {
		if got := p.CycleOf(tt.at).String(); got != tt.want {
			t.Errorf("CycleOf(%s) = %s, want %s", tt.at.UTC().Format(time.RFC3339Nano), got, tt.want)
		}
	}

	utcPolicy := Default()
	utcPolicy.Timezone = "UTC"
	if err := utcPolicy.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := utcPolicy.CycleOf(utc("2026-10-31T16:00:00Z")).String(), "2026-10"; got != want {
		t.Errorf("UTC policy CycleOf(2026-10-31T16:00Z) = %s, want %s", got, want)
	}
}

func TestCycleStartAndGraceEnd(t *testing.T) {
	p := Default()
	oct := Cycle{2026, time.October}
	dec := Cycle{2026, time.December}
	tests := []struct {
		name string
		got  time.Time
		want string
	}{
		{"start of Oct", p.CycleStart(oct), "2026-09-30T16:00:00Z"},
		{"start of Jan", p.CycleStart(Cycle{2027, time.January}), "2026-12-31T16:00:00Z"},
		{"grace end of Oct", p.GraceEnd(oct), "2026-11-03T16:00:00Z"},
		{"grace end of Dec wraps year", p.GraceEnd(dec), "2027-01-03T16:00:00Z"},
		{"grace end of Jan 2028 (Feb)", p.GraceEnd(Cycle{2028, time.January}), "2028-02-03T16:00:00Z"},
	}
	for _, tt := range tests {
		if got := tt.got.Format(time.RFC3339); got != tt.want || tt.got.Location() != time.UTC {
			t.Errorf("%s = %s (%s), want %s in UTC", tt.name, got, tt.got.Location(), tt.want)
		}
	}

	// Calendar days, not 24h: in a zone with daylight saving the grace period
	// still ends at local midnight. Berlin leaves summer time on 2026-10-25.
	berlin := Default()
	berlin.Timezone, berlin.GraceDays = "Europe/Berlin", 30
	if err := berlin.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := berlin.GraceEnd(Cycle{2026, time.September}).Format(time.RFC3339), "2026-10-30T23:00:00Z"; got != want {
		t.Errorf("Berlin GraceEnd(2026-09) with 30 days = %s, want %s", got, want)
	}
}

func TestIsClosed(t *testing.T) {
	p := Default()
	oct := Cycle{2026, time.October}
	tests := []struct {
		now  time.Time
		want bool
	}{
		{shanghai(t, 2026, time.October, 15, 12, 0, 0), false},
		{shanghai(t, 2026, time.November, 1, 0, 0, 0), false},
		{shanghai(t, 2026, time.November, 3, 23, 59, 59), false},
		{shanghai(t, 2026, time.November, 4, 0, 0, 0), true},
		{shanghai(t, 2027, time.March, 1, 0, 0, 0), true},
	}
	for _, tt := range tests {
		if got := p.IsClosed(oct, tt.now); got != tt.want {
			t.Errorf("IsClosed(2026-10, %s) = %v, want %v", tt.now.Format(time.RFC3339), got, tt.want)
		}
	}
	zero := Default()
	zero.GraceDays = 0
	if got := zero.IsClosed(oct, shanghai(t, 2026, time.November, 1, 0, 0, 0)); !got {
		t.Errorf("with grace_days 0, IsClosed(2026-10, 1 Nov 00:00) = false, want true")
	}
}

func TestCheckRecordTime(t *testing.T) {
	p := Default()
	now := shanghai(t, 2026, time.November, 2, 10, 0, 0)
	tests := []struct {
		name string
		now  time.Time
		at   time.Time
		want error
	}{
		{"same instant", now, now, nil},
		{"an hour ago", now, now.Add(-time.Hour), nil},
		{"at skew edge", now, now.Add(5 * time.Minute), nil},
		{"past skew", now, now.Add(5*time.Minute + time.Second), ErrFutureTime},
		{"past skew by 1ns", now, now.Add(5*time.Minute + 1), ErrFutureTime},
		{"tomorrow", now, now.Add(24 * time.Hour), ErrFutureTime},
		{"last cycle, in grace", now, shanghai(t, 2026, time.October, 31, 23, 59, 59), nil},
		{
			"Oct record at the last second of grace",
			shanghai(t, 2026, time.November, 3, 23, 59, 59),
			shanghai(t, 2026, time.October, 20, 9, 0, 0),
			nil,
		},
		{
			"Oct record when grace is over",
			shanghai(t, 2026, time.November, 4, 0, 0, 0),
			shanghai(t, 2026, time.October, 20, 9, 0, 0),
			ErrCycleClosed,
		},
		{
			"Nov record when Oct grace is over",
			shanghai(t, 2026, time.November, 4, 0, 0, 0),
			shanghai(t, 2026, time.November, 1, 0, 0, 0),
			nil,
		},
		{
			// 16:00Z on 31 Oct is November in Shanghai, so the record is not for the closed October.
			"UTC October is Shanghai November",
			shanghai(t, 2026, time.November, 4, 0, 0, 0),
			time.Date(2026, time.October, 31, 16, 0, 0, 0, time.UTC),
			nil,
		},
		{"two cycles back", now, shanghai(t, 2026, time.September, 30, 12, 0, 0), ErrCycleClosed},
		{"future beats closed check", now, now.Add(time.Hour), ErrFutureTime},
	}
	for _, tt := range tests {
		if got := p.CheckRecordTime(tt.now, tt.at); !errors.Is(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("%s: CheckRecordTime = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCycleString(t *testing.T) {
	for _, c := range []struct {
		c    Cycle
		want string
	}{
		{Cycle{2026, time.November}, "2026-11"},
		{Cycle{2027, time.January}, "2027-01"},
		{Cycle{999, time.December}, "0999-12"},
		{Cycle{0, time.May}, "0000-05"},
		{Cycle{12026, time.May}, "12026-05"}, // beyond four digits: as fmt writes it
		{Cycle{2026, 13}, "2026-13"},
	} {
		if got := c.c.String(); got != c.want {
			t.Errorf("%#v.String() = %q, want %q", c.c, got, c.want)
		}
	}
}
