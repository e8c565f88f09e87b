// Package configs holds edge's example configurations and embeds the
// default one that bare `edge` serves.
package configs

import _ "embed"

// Default is the embedded default configuration (default.yaml).
//
//go:embed default.yaml
var Default []byte
