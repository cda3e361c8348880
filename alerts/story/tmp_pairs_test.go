package story

import (
	"sync"
	"testing"
)

func TestTmpExhaustivePairs(t *testing.T) {
	table := foldTable()
	var fast []rune
	for r := rune('0'); r < tableEnd; r++ {
		if (table[r].class == classWord || table[r].class == classUnspaced) && !table[r].slow {
			fast = append(fast, r)
		}
	}
	fast = append(fast, 0xac00, 0xac01, 0xd7a3, 0x4e00, 0x9fff)
	t.Logf("%d fast runes", len(fast))
	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := 0
	chunks := 8
	for c := range chunks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < len(fast); i += chunks {
				a := fast[i]
				fa := string(a)
				if a < tableEnd { fa = table[a].fold }
				for _, b := range fast {
					fb := string(b)
					if b < tableEnd { fb = table[b].fold }
					s := string(a) + string(b)
					if foldSlow(s) != fa+fb {
						mu.Lock()
						if bad < 20 { t.Errorf("%U %U: %q vs %q", a, b, foldSlow(s), fa+fb) }
						bad++
						mu.Unlock()
					}
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("bad %d", bad)
}
