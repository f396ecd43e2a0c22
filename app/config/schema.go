package config

import _ "embed"

// Schema is the JSON Schema (draft 2020-12) of a config file, for
// editors and `ticketray config schema`. Loading does not use it: the Go
// validation is the reference, and a test keeps the two in step.
//
//go:embed schema.json
var Schema []byte
