package fetch

import (
	"context"
	"sync"
)

// hostLimiter bounds the number of requests in flight per host name, so that
// many feeds on one site never hammer it. Entries are dropped when no request
// holds or awaits them, so the map stays as small as the set of busy hosts.
type hostLimiter struct {
	size int

	mu    sync.Mutex
	hosts map[string]*hostSlots
}

type hostSlots struct {
	sem  chan struct{}
	refs int // requests holding or waiting for a slot
}

func newHostLimiter(size int) *hostLimiter {
	return &hostLimiter{size: size, hosts: make(map[string]*hostSlots)}
}

// acquire waits for a slot for host or for ctx to end. On success the caller
// must call the returned release exactly once.
func (l *hostLimiter) acquire(ctx context.Context, host string) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	s := l.hosts[host]
	if s == nil {
		s = &hostSlots{sem: make(chan struct{}, l.size)}
		l.hosts[host] = s
	}
	s.refs++
	l.mu.Unlock()

	select {
	case s.sem <- struct{}{}:
		return sync.OnceFunc(func() {
			<-s.sem
			l.unref(host, s)
		}), nil
	case <-ctx.Done():
		l.unref(host, s)
		return nil, ctx.Err()
	}
}

func (l *hostLimiter) unref(host string, s *hostSlots) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s.refs--
	if s.refs == 0 {
		delete(l.hosts, host)
	}
}
