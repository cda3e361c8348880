package config

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlLine extracts the line from the parser's "yaml: line N: msg" errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseDocument parses data into the root node of its single YAML
// document. Syntax errors, an empty document and extra documents are
// reported as Errors.
func parseDocument(data []byte, file string) (root *yaml.Node, err error) {
	defer func() {
		// The parser panics on a few internal inconsistencies instead of
		// returning an error; a bad config must never crash the binary.
		if r := recover(); r != nil {
			root, err = nil, Errors{errorf(file, 0, 0, "invalid YAML: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, emptyError(file)
		}
		return nil, Errors{syntaxError(file, data, err)}
	}
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, Errors{syntaxError(file, data, err)}
		}
		if len(next.Content) > 0 && !isNull(next.Content[0]) {
			return nil, Errors{errorf(file, next.Line, next.Column,
				"a second YAML document starts here; a config file holds exactly one")}
		}
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, emptyError(file)
	}
	return doc.Content[0], nil
}

func emptyError(file string) Errors {
	return Errors{errorf(file, 0, 0, "config is empty; see docs/config.md for the keys it takes")}
}

// parserProblems are the messages of the YAML parser stage. For these the
// library reports a 0-based line, and no line at all when it is the first,
// while scanner messages carry the 1-based line; syntaxError evens this out.
var parserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"found undefined tag handle":             true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
}

// syntaxError turns a parser error into an Error carrying its 1-based line
// when the library reports one. A problem at the end of input is placed on
// the last line rather than on the line the parser imagines after it.
func syntaxError(file string, data []byte, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if parserProblems[msg] {
		line++
	}
	lines := bytes.Count(data, []byte("\n"))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		lines++
	}
	line = min(line, lines)
	col := 0
	if line == 0 {
		line, col = locate(data, msg)
	}
	return &Error{File: file, Line: line, Col: col, Msg: "invalid YAML: " + msg, err: err}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}
