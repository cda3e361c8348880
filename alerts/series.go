package alerts

import "github.com/newswatch/newswatch/alerts/spike"

// Series is a topic's hourly volume against the usual over the hours before now, as the spike
// detector counts it: for the analyst's page.
func (r *SpikeRunner) Series(topic string, hours int) spike.Series {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.det.Series(topic, r.now(), hours)
}
