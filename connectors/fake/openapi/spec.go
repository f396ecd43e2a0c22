// Package openapi checks a vendor fake's traffic against the vendor's own
// OpenAPI (or Swagger 2.0) document, with kin-openapi: each fake embeds its
// spec, loads it here once, and puts a Validator in front of (or inside)
// its handler. Requests that do not match are answered in the vendor's
// error format and recorded, so a connector test catches a malformed
// request twice: on the error, and on a non-empty violations list.
package openapi

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Spec is a vendor document loaded for validation, with its router. It is
// read-only once loaded, so one Spec serves every fake in the process.
type Spec struct {
	Name     string
	Doc      *openapi3.T
	Router   routers.Router
	LoadTime time.Duration // parse + router build, measured once
}

// LoadSpec parses an OpenAPI 3 document (JSON or YAML). patch, when set,
// corrects the document before it is routed.
//
// It does not gate on doc.Validate(): vendor specs fail it on examples and
// enum defaults, which says nothing about the operations checked.
func LoadSpec(name string, data []byte, patch func(*openapi3.T) error) (*Spec, error) {
	start := time.Now()
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("load %s spec: %w", name, err)
	}
	return finish(name, doc, patch, start)
}

// LoadSwagger2 is LoadSpec for a Swagger 2.0 document in JSON, converted
// to OpenAPI 3.
func LoadSwagger2(name string, data []byte, patch func(*openapi3.T) error) (*Spec, error) {
	start := time.Now()
	var doc2 openapi2.T
	if err := json.Unmarshal(data, &doc2); err != nil {
		return nil, fmt.Errorf("load %s spec: %w", name, err)
	}
	doc, err := openapi2conv.ToV3(&doc2)
	if err != nil {
		return nil, fmt.Errorf("convert %s spec: %w", name, err)
	}
	return finish(name, doc, patch, start)
}

func finish(name string, doc *openapi3.T, patch func(*openapi3.T) error, start time.Time) (*Spec, error) {
	// gorillamux matches servers, and a vendor's is a placeholder or
	// public host, while the fake is on loopback.
	doc.Servers = openapi3.Servers{{URL: "/"}}
	if patch != nil {
		if err := patch(doc); err != nil {
			return nil, fmt.Errorf("patch %s spec: %w", name, err)
		}
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route %s spec: %w", name, err)
	}
	return &Spec{Name: name, Doc: doc, Router: router, LoadTime: time.Since(start)}, nil
}
