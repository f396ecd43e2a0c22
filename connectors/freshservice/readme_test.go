package freshservice_test

import (
	"testing"

	"github.com/ticketray/ticketray/connectors/conformance"
)

func TestREADMEExample(t *testing.T) {
	conformance.READMEExample(t, "#### Freshservice", "freshservice")
}
