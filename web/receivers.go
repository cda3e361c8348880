package web

import (
	"cmp"
	"slices"
)

// receiverRow is a receiver with alerts not yet delivered or dead-lettered.
type receiverRow struct {
	Name         string
	Pending      float64
	DeadLettered float64
}

// receivers reads the delivery metrics (newswatch_alert_delivery_pending and the
// dead_lettered deliveries of newswatch_alert_deliveries_total): the receivers that need a
// look.
func (s *server) receivers() []receiverRow {
	if s.o.Gatherer == nil {
		return nil
	}
	mfs, err := s.o.Gatherer.Gather()
	if err != nil {
		s.o.Logger.Warn("read delivery metrics", "component", "web", "err", err)
	}
	by := map[string]*receiverRow{}
	get := func(name string) *receiverRow {
		if by[name] == nil {
			by[name] = &receiverRow{Name: name}
		}
		return by[name]
	}
	for _, mf := range mfs {
		switch mf.GetName() {
		case "newswatch_alert_delivery_pending":
			for _, m := range mf.GetMetric() {
				if v := m.GetGauge().GetValue(); v > 0 {
					get(label(m.GetLabel(), "receiver")).Pending = v
				}
			}
		case "newswatch_alert_deliveries_total":
			for _, m := range mf.GetMetric() {
				if v := m.GetCounter().GetValue(); v > 0 && label(m.GetLabel(), "result") == "dead_lettered" {
					get(label(m.GetLabel(), "receiver")).DeadLettered = v
				}
			}
		}
	}
	out := make([]receiverRow, 0, len(by))
	for _, r := range by {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b receiverRow) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

type labelPair interface {
	GetName() string
	GetValue() string
}

func label[L labelPair](pairs []L, name string) string {
	for _, p := range pairs {
		if p.GetName() == name {
			return p.GetValue()
		}
	}
	return ""
}
