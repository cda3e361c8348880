package alerts

// forget drops every topic's state but its rule, before a (re)start reads it back from the
// alert stream: a group this runner still held from an earlier run may have been fired by
// another instance since (cluster failover), and firing it again would alert a story twice.
func (e *Engine) forget() {
	for id, st := range e.topics {
		e.topics[id] = &topicState{rule: st.rule}
	}
	e.lastSeen = 0
}
