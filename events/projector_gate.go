package events

// SaveOnlyIf makes the projector save its snapshots only while ok says true. With several
// instances (cluster mode) every instance folds the same events into its own read model, and
// one of them, the holder of the snapshots role, writes the shared snapshot keys: two writers
// of one large snapshot could each delete the object the other just pointed at. Call before
// Run.
func (p *Projector) SaveOnlyIf(ok func() bool) { p.saveIf = ok }
