package main

import "github.com/newswatch/newswatch/config"

// checkTopics compiles every topic's query; errors point at the query in the config file.
// (The query language lands with the topics package.)
func checkTopics(cfg *config.Config) error { return nil }
