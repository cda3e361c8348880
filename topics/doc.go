// Package topics implements the topic query language (PRODUCT.md §4,
// docs/query-language.md) and a matcher that evaluates many topics against
// an article at once.
//
// Parse turns a query into a Query, or a *SyntaxError with the column and
// what was expected. Compile builds a Matcher for a set of topics; its Match
// tokenizes an article once and evaluates only the topics whose terms occur
// in it, so the cost of a match grows with the article and the number of
// topics it is relevant to, not with the number of topics configured.
//
// Parsing and matching are pure: no I/O, no clocks, no mutable globals. A
// Matcher is immutable and safe for concurrent use; to change topics,
// compile a new one.
package topics
