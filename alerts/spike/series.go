package spike

import "time"

// Series is a topic's stories per hour over the hours before now, oldest first, with the
// usual count of each hour: for charts of volume against the usual.
type Series struct {
	// End is the end of the last hour (now, rounded up to the hour).
	End time.Time `json:"end"`
	// Counts are stories per hour as the detector counts them (copies merged), Usual the
	// baseline of each hour from the same hour of earlier days and weeks (0 without history).
	Counts []int     `json:"counts"`
	Usual  []float64 `json:"usual"`
	// Active is true when a spike fired within the rule's window before now, or the window's
	// count reaches what would fire.
	Active bool `json:"active"`
}

// Series returns a topic's hourly volume for the hours hours before now.
func (d *Detector) Series(topic string, now time.Time, hours int) Series {
	end := time.Unix((floorDiv(now.Unix(), hour)+1)*hour, 0).UTC()
	s := Series{End: end, Counts: make([]int, hours), Usual: make([]float64, hours)}
	t, r := d.topics[topic], d.rules[topic]
	if t == nil {
		return s
	}
	r = r.withDefaults()
	hourly := r
	hourly.Window = time.Hour
	for i := range hours {
		e := end.Add(-time.Duration(hours-1-i) * time.Hour)
		s.Counts[i] = int(t.counted(e.Add(-time.Hour).Unix(), e.Unix()))
		s.Usual[i] = t.baseline(hourly, e).mean
	}
	if !r.LearnOnly {
		fired := t.LastFired != 0 && now.Unix()-t.LastFired < int64(r.Window/time.Second)
		x, _ := t.evaluate(r, now, true)
		s.Active = fired || (x.Needed > 0 && x.Count >= x.Needed && now.Unix()-t.Start >= int64(DefaultMinHistory/time.Second))
	}
	return s
}
