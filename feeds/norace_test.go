//go:build !race

package feeds

// hostileFeeds is the count of issue 13.6.
const hostileFeeds = 40
