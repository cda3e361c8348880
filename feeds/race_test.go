//go:build race

package feeds

// hostileFeeds is fewer under the race detector, which makes parsing 10 MiB documents about
// ten times slower; the budget's bound does not depend on the count.
const hostileFeeds = 12
